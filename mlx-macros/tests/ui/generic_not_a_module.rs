use mlx_rs::nn::Module;

#[derive(Module)]
struct Wrapper<T> {
    inner: T,
}

fn needs_module<M: Module>(_: &M) {}

fn main() {
    needs_module(&Wrapper { inner: 1u8 });
}
