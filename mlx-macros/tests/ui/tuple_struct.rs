use mlx_rs::nn::Module;
use mlx_rs::Array;

#[derive(Module)]
struct Pair(Array, Array);

fn main() {}
