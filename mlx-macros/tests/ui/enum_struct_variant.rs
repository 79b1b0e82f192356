use mlx_rs::nn::{Linear, Module};

#[derive(Module)]
enum Layer {
    Float(Linear),
    Pair { a: Linear, b: Linear },
}

fn main() {}
