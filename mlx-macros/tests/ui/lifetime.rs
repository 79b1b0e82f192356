use mlx_rs::nn::Module;
use mlx_rs::Array;

#[derive(Module)]
struct View<'a> {
    weight: &'a Array,
}

fn main() {}
