//! GGML dequantization throughput per type, in MB/s of GGUF block data:
//! `mlx_rs::io::ggml::dequantize_f16` (what `load_gguf` runs for the types
//! MLX's reader does not take) and `dequantize` (float32), on the CPU
//! (Rust kernels, rayon over blocks), over 8 MiB of each type's golden
//! blocks (`mlx-rs/tests/golden/ggml/`) repeated.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mlx_rs::io::{ggml, GgmlType};

const TYPES: &[(&str, u32, &[u8])] = &[
    (
        "Q4_0",
        2,
        include_bytes!("../mlx-rs/tests/golden/ggml/Q4_0.blocks"),
    ),
    (
        "Q4_1",
        3,
        include_bytes!("../mlx-rs/tests/golden/ggml/Q4_1.blocks"),
    ),
    (
        "Q5_0",
        6,
        include_bytes!("../mlx-rs/tests/golden/ggml/Q5_0.blocks"),
    ),
    (
        "Q5_1",
        7,
        include_bytes!("../mlx-rs/tests/golden/ggml/Q5_1.blocks"),
    ),
    (
        "Q8_0",
        8,
        include_bytes!("../mlx-rs/tests/golden/ggml/Q8_0.blocks"),
    ),
    (
        "Q2_K",
        10,
        include_bytes!("../mlx-rs/tests/golden/ggml/Q2_K.blocks"),
    ),
    (
        "Q3_K",
        11,
        include_bytes!("../mlx-rs/tests/golden/ggml/Q3_K.blocks"),
    ),
    (
        "Q4_K",
        12,
        include_bytes!("../mlx-rs/tests/golden/ggml/Q4_K.blocks"),
    ),
    (
        "Q5_K",
        13,
        include_bytes!("../mlx-rs/tests/golden/ggml/Q5_K.blocks"),
    ),
    (
        "Q6_K",
        14,
        include_bytes!("../mlx-rs/tests/golden/ggml/Q6_K.blocks"),
    ),
    (
        "Q8_K",
        15,
        include_bytes!("../mlx-rs/tests/golden/ggml/Q8_K.blocks"),
    ),
    (
        "IQ4_NL",
        20,
        include_bytes!("../mlx-rs/tests/golden/ggml/IQ4_NL.blocks"),
    ),
    (
        "IQ4_XS",
        23,
        include_bytes!("../mlx-rs/tests/golden/ggml/IQ4_XS.blocks"),
    ),
    (
        "TQ1_0",
        34,
        include_bytes!("../mlx-rs/tests/golden/ggml/TQ1_0.blocks"),
    ),
    (
        "TQ2_0",
        35,
        include_bytes!("../mlx-rs/tests/golden/ggml/TQ2_0.blocks"),
    ),
    (
        "MXFP4",
        39,
        include_bytes!("../mlx-rs/tests/golden/ggml/MXFP4.blocks"),
    ),
];

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("ggml_dequant");
    for &(name, code, blocks) in TYPES {
        let data: Vec<u8> = blocks
            .iter()
            .copied()
            .cycle()
            .take((8 << 20) / blocks.len() * blocks.len())
            .collect();
        let ty = GgmlType::from_code(code);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(format!("{name}/f16"), |b| {
            b.iter(|| ggml::dequantize_f16(ty, &data).unwrap())
        });
        g.bench_function(format!("{name}/f32"), |b| {
            b.iter(|| ggml::dequantize(ty, &data).unwrap())
        });
    }
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
