use mlx_rs::nn::Module;
use mlx_rs::Array;

#[derive(Module)]
struct Layer {
    #[module(flatten)]
    weight: Array,
}

fn main() {}
