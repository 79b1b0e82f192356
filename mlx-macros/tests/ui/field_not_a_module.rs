use mlx_rs::nn::Module;
use mlx_rs::Array;

#[derive(Module)]
struct Norm {
    weight: Array,
    eps: f32,
}

fn main() {}
