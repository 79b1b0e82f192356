use mlx_rs::nn::Module;
use mlx_rs::Array;

#[derive(Module)]
struct Layer {
    #[module(rename = 5)]
    weight: Array,
}

fn main() {}
