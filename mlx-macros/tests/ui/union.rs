use mlx_rs::nn::Module;

#[derive(Module)]
union Weights {
    a: u32,
    b: f32,
}

fn main() {}
