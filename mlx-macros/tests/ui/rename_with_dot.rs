use mlx_rs::nn::Module;
use mlx_rs::Array;

#[derive(Module)]
struct Layer {
    #[module(rename = "attn.weight")]
    weight: Array,
}

fn main() {}
