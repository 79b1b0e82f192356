//! [`Group`]: a communication group of MLX's distributed engine, and
//! [`Backend`], the engines it can run on.

use std::ffi::CStr;
use std::rc::Rc;

use crate::error::{check_handle, Result};
use crate::raw::{self, Owned};
use crate::DeviceType;

/// The owned handle of a group.
///
/// `mlx_distributed_group` owns a heap-allocated C++
/// `mlx::core::distributed::Group`, which is itself a `shared_ptr` to the
/// backend's group (sockets, threads): `mlx_distributed_group_new` gives the
/// empty handle (`{ NULL }`), `mlx_distributed_init` /
/// `mlx_distributed_group_split` allocate the `Group` into it, and
/// `mlx_distributed_group_free` deletes that `Group` (and accepts the empty
/// handle). Deleting it only drops one reference: MLX keeps the backend's
/// group registered for the process (`init` returns the same one again),
/// so freeing a handle never closes a connection that another handle or a
/// pending array still uses. The handle kind is declared with that pair in
/// `raw/handle.rs`, so [`Owned`] frees it exactly once.
type Handle = Owned<mlx_sys::mlx_distributed_group>;

/// A distributed backend of MLX.
///
/// The Linux CPU build of MLX has [`Ring`](Backend::Ring) (TCP between the
/// processes of a ring); [`Mpi`](Backend::Mpi) needs an MPI library at run
/// time, [`Nccl`](Backend::Nccl) a CUDA build, [`Jaccl`](Backend::Jaccl)
/// RDMA over Thunderbolt (macOS). [`Any`](Backend::Any) takes the first
/// that initialises (NCCL on a CUDA machine, then ring, MPI, JACCL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// The first backend that initialises.
    Any,
    /// The ring backend: TCP sockets to the next and previous rank.
    Ring,
    /// MPI.
    Mpi,
    /// NCCL (CUDA).
    Nccl,
    /// JACCL (RDMA over Thunderbolt).
    Jaccl,
}

impl Backend {
    /// MLX's name for the backend (`"any"`, `"ring"`, `"mpi"`, `"nccl"`,
    /// `"jaccl"`), as `mlx.launch --backend` and `mx.distributed.init` take
    /// it.
    pub fn name(self) -> &'static str {
        self.c_name().to_str().unwrap_or_default()
    }

    fn c_name(self) -> &'static CStr {
        match self {
            Backend::Any => c"any",
            Backend::Ring => c"ring",
            Backend::Mpi => c"mpi",
            Backend::Nccl => c"nccl",
            Backend::Jaccl => c"jaccl",
        }
    }
}

impl Backend {
    /// For [`Backend::Any`], the backend MLX 0.32.2's `init` tries first
    /// that this environment lets form a group (its order: NCCL on a CUDA
    /// machine, ring, MPI; JACCL is macOS only); others as they are.
    fn resolved(self) -> Result<Backend> {
        if self != Backend::Any {
            return Ok(self);
        }
        let set = |v: &str| std::env::var_os(v).is_some();
        let nccl_env = ["NCCL_HOST_IP", "NCCL_PORT", "MLX_RANK", "MLX_WORLD_SIZE"];
        if nccl_env.iter().all(|v| set(v)) && crate::cuda::is_available()? {
            return Ok(Backend::Nccl);
        }
        if set("MLX_HOSTFILE") && set("MLX_RANK") {
            return Ok(Backend::Ring);
        }
        Ok(Backend::Mpi)
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether `backend` is built into this MLX (and, for MPI, whether its
/// library can be loaded). It does not say that a group can be formed: the
/// ring backend is available whenever it is compiled in, and forming a
/// group needs `MLX_RANK` and `MLX_HOSTFILE` (see [`Group::init`]).
///
/// ```
/// use mlx_rs::distributed::{is_available, Backend};
/// assert!(is_available(Backend::Ring)?); // the Linux CPU build has it
/// # Ok::<(), mlx_rs::Error>(())
/// ```
///
/// # Errors
/// [`Error::Mlx`](crate::Error::Mlx) if MLX reports a failure while
/// probing.
#[doc(alias = "mlx_distributed_is_available")]
pub fn is_available(backend: Backend) -> Result<bool> {
    let name = backend.c_name();
    // SAFETY: `name` is a NUL-terminated static string; the function only
    // reads it, and reports failure through the error handler (checked
    // below).
    let yes = raw::enter(|| unsafe { mlx_sys::mlx_distributed_is_available(name.as_ptr()) });
    check_handle("mlx_distributed_is_available", false)?;
    Ok(yes)
}

/// A group of processes that communicate through one of MLX's distributed
/// backends; the group argument of every collective in
/// [`distributed`](crate::distributed).
///
/// Each process of a run calls [`Group::init`] once; MLX keeps the group
/// for the life of the process, and a second `init` with the same backend
/// returns it again. A process that is not part of a launched run gets the
/// group of size 1, in which every collective is the identity.
///
/// `Clone` is cheap (a reference count) and the clones are the same group.
/// `Group` is neither `Send` nor `Sync`: MLX's registry of groups and the
/// backends' state carry no such guarantee.
#[derive(Clone)]
pub struct Group {
    handle: Rc<Handle>,
    check_shapes: bool,
    /// The backend MLX formed the group on ([`Backend::Any`] resolved).
    backend: Backend,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("rank", &self.rank())
            .field("size", &self.size())
            .field("check_shapes", &self.check_shapes)
            .field("backend", &self.backend)
            .finish()
    }
}

impl Group {
    /// Joins (or, on first use, forms) the group of this process on
    /// `backend`.
    ///
    /// For the ring backend, the process reads its rank from `MLX_RANK`
    /// and the ring from the JSON hostfile named by `MLX_HOSTFILE` (one
    /// list of `"ip:port"` addresses per rank), which is what `mlx.launch
    /// --backend ring` and [`launch`](crate::distributed::launch) set.
    /// Ranks connect to their neighbours here, so `init` returns once the
    /// whole ring is up.
    ///
    /// With `strict == false`, a backend that cannot form a group (no
    /// environment, not built) gives the group of size 1; with `strict`,
    /// it is an error. MLX keeps the first group each backend gave for
    /// the whole process, the group of size 1 included: a later `init` of
    /// that backend returns it again, strict or not.
    ///
    /// **Bounds.** A rank that connects to its right neighbour tries 5
    /// times with growing waits (about 31 s in all) and then fails with
    /// `[ring] Couldn't connect`. A rank that waits for its left neighbour
    /// to connect (rank 0 first) blocks in `accept` with no time limit of
    /// MLX's own: a launcher must bound the run (as
    /// [`launch::Launch::timeout`](crate::distributed::launch::Launch::timeout)
    /// does).
    ///
    /// ```
    /// use mlx_rs::distributed::{Backend, Group};
    /// // Outside a launched run: the group of one process.
    /// let g = Group::init(Backend::Any, false)?;
    /// assert_eq!((g.rank(), g.size()), (0, 1));
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message: with `strict`,
    /// a backend that cannot initialise (`"Cannot initialize MPI"`, the
    /// ring's missing `MLX_RANK`/`MLX_HOSTFILE`); an unreadable hostfile;
    /// a rank outside the hostfile; a peer that cannot be reached.
    #[doc(alias = "mlx_distributed_init")]
    pub fn init(backend: Backend, strict: bool) -> Result<Group> {
        let name = backend.c_name();
        // SAFETY: `res` is the fresh (empty) out-param `out` owns; `name`
        // is a static NUL-terminated string that the call only reads.
        let handle = raw::out("mlx_distributed_init", |res| unsafe {
            mlx_sys::mlx_distributed_init(res, strict, name.as_ptr())
        })?;
        let mut group = Group::from_handle(handle, backend);
        if backend == Backend::Any && group.size() > 1 {
            group.backend = backend.resolved()?;
        }
        Ok(group)
    }

    fn from_handle(handle: Handle, backend: Backend) -> Group {
        Group {
            handle: Rc::new(handle),
            check_shapes: false,
            backend,
        }
    }

    /// The backend the group runs on: the one given to [`Group::init`], or
    /// for [`Backend::Any`] the one MLX picked (NCCL on a CUDA machine whose
    /// environment sets `NCCL_HOST_IP`, `NCCL_PORT`, `MLX_RANK` and
    /// `MLX_WORLD_SIZE`, else the ring when `MLX_HOSTFILE` and `MLX_RANK`
    /// are set, else MPI); `Any` still when no backend formed a group (the
    /// group of one process).
    ///
    /// ```
    /// use mlx_rs::distributed::{Backend, Group};
    /// assert_eq!(Group::init(Backend::Any, false)?.backend(), Backend::Any);
    /// # Ok::<(), mlx_rs::Error>(())
    /// ```
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The device the backend communicates on: the GPU for NCCL, the CPU
    /// for the others (MLX's `communication_stream`).
    pub(crate) fn communication_device(&self) -> DeviceType {
        match self.backend {
            Backend::Nccl => DeviceType::Gpu,
            _ => DeviceType::Cpu,
        }
    }

    /// The owned handle, borrowed.
    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// The raw handle, still owned by `self`; valid while `self` lives.
    pub fn as_raw(&self) -> mlx_sys::mlx_distributed_group {
        self.handle.get()
    }

    /// This process's rank in the group (`0..size`).
    #[doc(alias = "mlx_distributed_group_rank")]
    pub fn rank(&self) -> usize {
        // SAFETY: the handle is live and non-empty (`init` and `split`
        // check it), so the call cannot fail.
        let r = raw::enter(|| unsafe { mlx_sys::mlx_distributed_group_rank(self.handle.get()) });
        usize::try_from(r).unwrap_or(0)
    }

    /// The number of processes in the group.
    #[doc(alias = "mlx_distributed_group_size")]
    pub fn size(&self) -> usize {
        // SAFETY: as in `rank`.
        let n = raw::enter(|| unsafe { mlx_sys::mlx_distributed_group_size(self.handle.get()) });
        usize::try_from(n).unwrap_or(1)
    }

    /// Splits the group: the processes that pass the same `color` form a
    /// new group, ordered by `key` (a negative `key` keeps the rank order).
    /// Every process of the group must call it.
    ///
    /// # Errors
    /// [`Error::Mlx`](crate::Error::Mlx) with MLX's message when the
    /// backend cannot split: the ring backend cannot (`"[ring] Group split
    /// not supported."`), nor the group of size 1 (`"Cannot split the
    /// distributed group further."`); MPI and NCCL can.
    #[doc(alias = "mlx_distributed_group_split")]
    pub fn split(&self, color: i32, key: i32) -> Result<Group> {
        // SAFETY: `res` is the fresh out-param `out` owns; the group handle
        // is live.
        let handle = raw::out("mlx_distributed_group_split", |res| unsafe {
            mlx_sys::mlx_distributed_group_split(res, self.handle.get(), color, key)
        })?;
        Ok(Group::from_handle(handle, self.backend))
    }

    /// The same group, with the shape check of the collectives on or off
    /// (off by default).
    ///
    /// MLX does not check that the ranks of a collective pass arrays of one
    /// shape and dtype: over the ring, a mismatch gives some ranks wrong
    /// values and others `[ring] connection to a peer was lost` once the
    /// first exits. With the check on, [`all_sum`](super::all_sum),
    /// [`all_max`](super::all_max), [`all_min`](super::all_min),
    /// [`all_gather`](super::all_gather) and
    /// [`sum_scatter`](super::sum_scatter) first gather every rank's dtype
    /// and shape (one small `all_gather`, evaluated at once) and fail on
    /// every rank with the list when they differ. It costs one round trip
    /// per collective.
    pub fn with_shape_check(mut self, on: bool) -> Group {
        self.check_shapes = on;
        self
    }

    /// Whether the collectives check shapes (see
    /// [`with_shape_check`](Group::with_shape_check)).
    pub fn checks_shapes(&self) -> bool {
        self.check_shapes
    }
}
