//! A default seccomp filter: the system calls that Docker's default profile
//! (Kubernetes' `RuntimeDefault`) keeps from containers, refused with EPERM.
//!
//! Capabilities decide what a call may do once the kernel runs it; a
//! seccomp filter decides whether the kernel runs it at all. The calls
//! below are rarely needed by applications and have been, again and again,
//! where kernel bugs lived (key rings, eBPF, perf events, userfaultfd,
//! user namespaces), or let a process out of its box with the wrong
//! capability (handles to host files, kernel modules, kexec, mounts).
//!
//! Docker's profile is an allow-list of some 350 calls; this is the shorter
//! deny-list of what that allow-list leaves out for a container with the
//! default capabilities. The filter is a classic BPF program, run by the
//! kernel on every system call of the application and its descendants; it
//! cannot be removed, and exec keeps it.

use namespaces::InitError;
use nix::errno::Errno;

/// The architecture the filter is written for: system call numbers differ
/// between architectures, so a call made with another ABI is killed.
#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7; // AUDIT_ARCH_AARCH64

/// On x86_64, the x32 ABI reaches the same kernel with numbers carrying this
/// bit (and the same audit architecture): a deny-list must refuse them all.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Refused outright.
const DENIED: &[libc::c_long] = &[
    // Key rings, eBPF, perf events, userfaultfd, io_uring: kernel attack
    // surface that applications seldom need.
    libc::SYS_add_key,
    libc::SYS_keyctl,
    libc::SYS_request_key,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    // Mounts and namespaces: the container's are set up already.
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_open_tree,
    libc::SYS_move_mount,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_mount_setattr,
    libc::SYS_setns,
    // Host files by handle (the "shocker" escape), kernel modules, kexec,
    // reboot, swap, accounting, quotas, the kernel log.
    libc::SYS_open_by_handle_at,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_syslog,
    libc::SYS_lookup_dcookie,
    libc::SYS_vhangup,
    // The clock and NUMA placement belong to the host.
    libc::SYS_settimeofday,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_set_mempolicy,
    libc::SYS_mbind,
    libc::SYS_move_pages,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_uselib,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ustat,
    #[cfg(target_arch = "x86_64")]
    libc::SYS__sysctl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_nfsservctl,
];

/// The namespace flags of clone(2) and unshare(2): a container creates no
/// namespaces of its own (a user namespace would give it a root with full
/// capabilities over new kernel code paths). CLONE_NEWTIME is left out for
/// clone, whose low byte is the exit signal.
const NAMESPACE_FLAGS: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u32;

/// CLONE_NEWTIME, which only unshare takes.
const CLONE_NEWTIME: u32 = 0x80;

/// The personalities Docker allows: Linux, 32-bit Linux, their variants
/// with uname reporting 2.6, and the query (0xffffffff).
const PERSONALITIES: &[u32] = &[0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// Where a return instruction sits, at the end of the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Allow,
    Deny,
    NoSuchCall,
    Kill,
}

const EXITS: [Exit; 4] = [Exit::Allow, Exit::Deny, Exit::NoSuchCall, Exit::Kill];

/// Where a conditional jump goes.
#[derive(Debug, Clone, Copy)]
enum Next {
    /// The following instruction.
    On,
    /// Past the next `n` instructions.
    Skip(u8),
    To(Exit),
}

#[derive(Debug, Clone, Copy)]
enum Op {
    /// Load a 32-bit word of `seccomp_data` at this offset.
    Load(u32),
    /// Compare the loaded word (`code` is BPF_JEQ, BPF_JGE or BPF_JSET).
    Jump {
        code: u32,
        k: u32,
        yes: Next,
        no: Next,
    },
    /// Go to an exit.
    Go(Exit),
}

/// Offsets in `struct seccomp_data`: nr (u32), arch (u32), instruction
/// pointer (u64), then the six arguments (u64 each; the low half comes first
/// on little-endian machines, which both supported ones are).
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARG0: u32 = 16;

fn jump(code: u32, k: u32, yes: Next, no: Next) -> Op {
    Op::Jump { code, k, yes, no }
}

/// The filter, before assembly.
fn program() -> Vec<Op> {
    use Next::{On, Skip, To};
    let mut ops = vec![
        Op::Load(ARCH),
        jump(libc::BPF_JEQ, AUDIT_ARCH, On, To(Exit::Kill)),
        Op::Load(NR),
    ];
    #[cfg(target_arch = "x86_64")]
    ops.push(jump(libc::BPF_JGE, X32_SYSCALL_BIT, To(Exit::Deny), On));
    for &number in DENIED {
        ops.push(jump(libc::BPF_JEQ, number as u32, To(Exit::Deny), On));
    }
    // glibc tries clone3 first and falls back to clone on ENOSYS; clone3's
    // flags are behind a pointer, where a filter cannot look.
    ops.push(jump(
        libc::BPF_JEQ,
        libc::SYS_clone3 as u32,
        To(Exit::NoSuchCall),
        On,
    ));
    // The calls whose first argument decides: each block reloads the
    // number for the next.
    for (number, refused) in [
        (libc::SYS_unshare, NAMESPACE_FLAGS | CLONE_NEWTIME),
        (libc::SYS_clone, NAMESPACE_FLAGS),
    ] {
        ops.extend([
            jump(libc::BPF_JEQ, number as u32, On, Skip(2)),
            Op::Load(ARG0),
            jump(libc::BPF_JSET, refused, To(Exit::Deny), To(Exit::Allow)),
        ]);
    }
    ops.push(jump(
        libc::BPF_JEQ,
        libc::SYS_personality as u32,
        On,
        Skip(1 + PERSONALITIES.len() as u8 + 1),
    ));
    ops.push(Op::Load(ARG0));
    for &allowed in PERSONALITIES {
        ops.push(jump(libc::BPF_JEQ, allowed, To(Exit::Allow), On));
    }
    ops.push(Op::Go(Exit::Deny));
    ops.push(Op::Go(Exit::Allow));
    ops
}

/// Turns the ops into BPF instructions, with the exits appended.
fn assemble(ops: &[Op]) -> Result<Vec<libc::sock_filter>, String> {
    let exit_at = |exit: Exit| ops.len() + EXITS.iter().position(|e| *e == exit).unwrap_or(0);
    let offset = |from: usize, next: Next| -> Result<u8, String> {
        let target = match next {
            Next::On => from + 1,
            Next::Skip(n) => from + 1 + n as usize,
            Next::To(exit) => exit_at(exit),
        };
        u8::try_from(target - from - 1).map_err(|_| format!("a jump from {from} is too long"))
    };
    let mut program = Vec::with_capacity(ops.len() + EXITS.len());
    for (index, op) in ops.iter().enumerate() {
        program.push(match *op {
            Op::Load(at) => statement(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, at),
            Op::Jump { code, k, yes, no } => libc::sock_filter {
                code: (libc::BPF_JMP | code | libc::BPF_K) as u16,
                jt: offset(index, yes)?,
                jf: offset(index, no)?,
                k,
            },
            Op::Go(exit) => libc::sock_filter {
                code: (libc::BPF_JMP | libc::BPF_JA) as u16,
                jt: 0,
                jf: 0,
                k: (exit_at(exit) - index - 1) as u32,
            },
        });
    }
    for exit in EXITS {
        let action = match exit {
            Exit::Allow => libc::SECCOMP_RET_ALLOW,
            Exit::Deny => libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
            Exit::NoSuchCall => libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
            Exit::Kill => libc::SECCOMP_RET_KILL_PROCESS,
        };
        program.push(statement(libc::BPF_RET | libc::BPF_K, action));
    }
    Ok(program)
}

fn statement(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

// ANCHOR: install_seccomp_filter
/// Installs the default filter on this process (and so on the application
/// it execs). Needs no_new_privs first (or CAP_SYS_ADMIN): otherwise a
/// filter could fool a set-user-id program.
pub fn install_seccomp_filter() -> Result<(), InitError> {
    let failed = |what: &str, source| InitError::Setup {
        what: format!("install the seccomp filter ({what})"),
        source,
    };
    let mut filter = assemble(&program()).map_err(|what| failed(&what, Errno::EINVAL))?;
    let program = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_mut_ptr(),
    };
    // SAFETY: `program` points to `filter`, alive for the call; the kernel
    // copies it.
    let result = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &program as *const libc::sock_fprog,
        )
    };
    Errno::result(result)
        .map(drop)
        .map_err(|source| failed("seccomp", source))
}
// ANCHOR_END: install_seccomp_filter

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_jump_lands_inside_the_program() {
        let filter = assemble(&program()).unwrap();
        for (index, instruction) in filter.iter().enumerate() {
            let class = u32::from(instruction.code) & 0x07;
            if class == libc::BPF_JMP {
                let longest = if u32::from(instruction.code) & 0xf0 == libc::BPF_JA {
                    instruction.k as usize
                } else {
                    usize::from(instruction.jt.max(instruction.jf))
                };
                assert!(
                    index + 1 + longest < filter.len(),
                    "instruction {index} jumps out"
                );
            }
        }
        let last = filter.last().unwrap();
        assert_eq!(u32::from(last.code), libc::BPF_RET | libc::BPF_K);
        assert_eq!(last.k, libc::SECCOMP_RET_KILL_PROCESS);
    }
}
