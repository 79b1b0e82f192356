use mlx_rs::nn::{Linear, Module};

#[derive(Module)]
enum Layer {
    Two(Linear, Linear),
}

fn main() {}
