//! Which stream a collective runs on.
//!
//! Python MLX passes no stream to a collective, and MLX then picks the
//! group's communication stream: the CPU's default stream for the ring,
//! MPI and JACCL backends, the GPU's for NCCL. mlx-c always passes one, so
//! the plain forms ([`all_sum`](super::all_sum), …) make that choice here:
//! given [`Stream::current`] on the GPU (`MLX_RS_DEFAULT_DEVICE=gpu`), a
//! ring collective would otherwise reach MLX with a GPU stream, which it
//! cannot run ("no CUDA implementation", or a ring lookup of a CPU
//! encoder that does not exist).

use super::group::Group;
use crate::ops::support::invalid;
use crate::{Device, DeviceType, Result, Stream};

/// The stream the plain form of a collective of `group` runs on: the
/// current stream when it is on the group's communication device (or the
/// group has one process, where every collective is the identity), else
/// this thread's default stream of that device.
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX cannot report its streams.
pub(crate) fn communication_stream(group: &Group) -> Result<Stream> {
    let current = Stream::current()?;
    if group.size() <= 1 || current.device()?.kind() == group.communication_device() {
        return Ok(current);
    }
    Stream::default_for(Device::new(group.communication_device(), 0))
}

/// Refuses, for a group of several processes, a stream its backend cannot
/// communicate on (the `_on` forms).
///
/// # Errors
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming both
/// devices.
pub(crate) fn check_stream(op: &'static str, group: &Group, s: &Stream) -> Result<()> {
    let want = group.communication_device();
    let got = s.device()?.kind();
    if group.size() <= 1 || got == want {
        return Ok(());
    }
    let name = |d: DeviceType| match d {
        DeviceType::Cpu => "CPU",
        DeviceType::Gpu => "GPU",
    };
    Err(invalid(
        op,
        format!(
            "the {} backend communicates on a {} stream, not a {} one",
            group.backend(),
            name(want),
            name(got)
        ),
    ))
}
