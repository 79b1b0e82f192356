use mlx_rs::nn::Module;
use mlx_rs::Array;

#[derive(Module)]
struct Layer {
    weight: Array,
    #[module(rename = "weight")]
    other: Array,
}

fn main() {}
