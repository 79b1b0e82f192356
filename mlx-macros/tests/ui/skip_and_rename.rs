use mlx_rs::nn::Module;
use mlx_rs::Array;

#[derive(Module)]
struct Layer {
    #[module(skip, rename = "w")]
    weight: Array,
}

fn main() {}
