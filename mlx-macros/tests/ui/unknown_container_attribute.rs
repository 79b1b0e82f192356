use mlx_rs::nn::Module;
use mlx_rs::Array;

#[derive(Module)]
#[module(rename = "layer")]
struct Layer {
    weight: Array,
}

fn main() {}
