// Generated from solutions/04-cgroups/src/bpf.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The device allow-list on cgroup v2: an eBPF program.
//!
//! v2 has no `devices.allow` file. Instead, a program of type
//! `BPF_PROG_TYPE_CGROUP_DEVICE` is attached to the cgroup, and the kernel
//! runs it on every `open` and `mknod` of a device node by a process in the
//! cgroup (or below it). Its input is a `struct bpf_cgroup_dev_ctx`: the
//! access type and device type packed in one 32-bit word, the major and the
//! minor number. It returns 1 to allow, 0 to refuse (`EPERM`). runc, crun
//! and systemd all generate such a program from a rule list; so does
//! [`device_program`], which is a pure function so that a test can run its
//! output. [`attach_device_program`] loads it with `bpf(2)` and attaches it.

use std::ffi::CString;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::{CgroupError, DeviceAccess, DeviceRule};

/// One eBPF instruction, laid out as the kernel's `struct bpf_insn`: the
/// opcode, the destination and source registers (four bits each), a signed
/// 16-bit offset (jumps and memory) and a signed 32-bit immediate.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInsn {
    pub code: u8,
    regs: u8,
    pub off: i16,
    pub imm: i32,
}

/// Opcodes, as linux/bpf_common.h and linux/bpf.h compose them: class,
/// operation and operand source (or size).
mod op {
    const LDX: u8 = 0x01;
    const ALU: u8 = 0x04;
    const JMP: u8 = 0x05;
    const ALU64: u8 = 0x07;
    const MEM: u8 = 0x60;
    /// A 32-bit word (size bits 0).
    const W: u8 = 0x00;
    /// The immediate as operand (source bit 0).
    const K: u8 = 0x00;
    /// The source register as operand.
    const X: u8 = 0x08;
    const AND: u8 = 0x50;
    const RSH: u8 = 0x70;
    const MOV: u8 = 0xb0;
    const JNE: u8 = 0x50;
    const EXIT_OP: u8 = 0x90;

    /// dst = *(u32 *)(src + off).
    pub const LDX_MEM_W: u8 = LDX | MEM | W;
    /// dst &= imm, on the low 32 bits.
    pub const AND32_IMM: u8 = ALU | AND | K;
    /// dst >>= imm, on the low 32 bits.
    pub const RSH32_IMM: u8 = ALU | RSH | K;
    /// dst = src, the low 32 bits.
    pub const MOV32_REG: u8 = ALU | MOV | X;
    /// dst = imm.
    pub const MOV64_IMM: u8 = ALU64 | MOV | K;
    /// If dst != imm, skip `off` instructions.
    pub const JNE_IMM: u8 = JMP | JNE | K;
    /// If dst != src, skip `off` instructions.
    pub const JNE_REG: u8 = JMP | JNE | X;
    /// Return r0.
    pub const EXIT: u8 = JMP | EXIT_OP;
}

/// The registers the program uses. r1 holds the context pointer on entry
/// (and serves as scratch once it is read); r0 is the answer.
const R0: u8 = 0;
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R4: u8 = 4;
const R5: u8 = 5;

impl BpfInsn {
    fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> BpfInsn {
        BpfInsn {
            code,
            regs: (src << 4) | (dst & 0x0f),
            off,
            imm,
        }
    }

    /// The destination register.
    pub fn dst(&self) -> u8 {
        self.regs & 0x0f
    }

    /// The source register.
    pub fn src(&self) -> u8 {
        self.regs >> 4
    }

    fn is_jump(&self) -> bool {
        matches!(self.code, op::JNE_IMM | op::JNE_REG)
    }
}

impl fmt::Display for BpfInsn {
    /// The instruction in the notation of the kernel's verifier log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (dst, src, off, imm) = (self.dst(), self.src(), self.off, self.imm);
        match self.code {
            op::LDX_MEM_W => write!(f, "r{dst} = *(u32 *)(r{src} + {off})"),
            op::AND32_IMM => write!(f, "w{dst} &= {imm:#x}"),
            op::RSH32_IMM => write!(f, "w{dst} >>= {imm}"),
            op::MOV32_REG => write!(f, "w{dst} = w{src}"),
            op::MOV64_IMM => write!(f, "r{dst} = {imm}"),
            op::JNE_IMM => write!(f, "if r{dst} != {imm} goto +{off}"),
            op::JNE_REG => write!(f, "if r{dst} != r{src} goto +{off}"),
            op::EXIT => write!(f, "exit"),
            code => write!(f, "(code {code:#04x} r{dst} r{src} {off} {imm})"),
        }
    }
}

// ANCHOR: device_program
/// The program that allows exactly what `rules` allow, in the way runc
/// writes it: first the context is unpacked into registers (r2 the device
/// type, r3 the access asked for, r4 the major, r5 the minor number), then
/// each rule is a block of tests that jumps to the next block on the first
/// mismatch and returns 1 if all pass; after the last block, 0.
pub fn device_program(rules: &[DeviceRule]) -> Vec<BpfInsn> {
    let mut program = vec![
        // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
        // where access_type is (access << 16) | device type.
        BpfInsn::new(op::LDX_MEM_W, R2, R1, 0, 0),
        BpfInsn::new(op::AND32_IMM, R2, 0, 0, 0xffff),
        BpfInsn::new(op::LDX_MEM_W, R3, R1, 0, 0),
        BpfInsn::new(op::RSH32_IMM, R3, 0, 0, 16),
        BpfInsn::new(op::LDX_MEM_W, R4, R1, 4, 0),
        BpfInsn::new(op::LDX_MEM_W, R5, R1, 8, 0),
    ];
    for rule in rules {
        // Jumps get their offsets once the block's length is known.
        let mut block = vec![BpfInsn::new(
            op::JNE_IMM,
            R2,
            0,
            0,
            rule.kind.bpf_code() as i32,
        )];
        if rule.access != DeviceAccess::ALL {
            // Everything asked for must be in the rule: (r3 & rule) == r3.
            block.push(BpfInsn::new(op::MOV32_REG, R1, R3, 0, 0));
            block.push(BpfInsn::new(
                op::AND32_IMM,
                R1,
                0,
                0,
                rule.access.bits() as i32,
            ));
            block.push(BpfInsn::new(op::JNE_REG, R1, R3, 0, 0));
        }
        // Device numbers are 12 (major) and 20 (minor) bits: they fit.
        if let Some(major) = rule.major {
            block.push(BpfInsn::new(op::JNE_IMM, R4, 0, 0, major as i32));
        }
        if let Some(minor) = rule.minor {
            block.push(BpfInsn::new(op::JNE_IMM, R5, 0, 0, minor as i32));
        }
        block.push(BpfInsn::new(op::MOV64_IMM, R0, 0, 0, 1));
        block.push(BpfInsn::new(op::EXIT, 0, 0, 0, 0));
        let len = block.len();
        for (at, insn) in block.iter_mut().enumerate() {
            if insn.is_jump() {
                // An offset counts from the instruction after the jump.
                insn.off = (len - at - 1) as i16;
            }
        }
        program.extend(block);
    }
    program.push(BpfInsn::new(op::MOV64_IMM, R0, 0, 0, 0));
    program.push(BpfInsn::new(op::EXIT, 0, 0, 0, 0));
    program
}
// ANCHOR_END: device_program

/// bpf(2) commands, program and attach types and flags, from linux/bpf.h.
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_PROG_QUERY: libc::c_long = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Several programs on one cgroup, all of which must allow: a parent's
/// program keeps applying below it, and ours may sit beside another's.
const BPF_F_ALLOW_MULTI: u32 = 2;
/// The verifier log kept when a load fails.
const LOG_SIZE: usize = 64 * 1024;

/// The `union bpf_attr` members this module uses, each laid out as the
/// kernel's. The kernel takes a shorter attribute than its own (the rest
/// counts as zero).
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

#[repr(C)]
#[derive(Default)]
struct AttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
}

#[repr(C)]
#[derive(Default)]
struct QueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
}

#[repr(C)]
#[derive(Default)]
struct GetFdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

/// bpf(2); the result is a descriptor or 0.
fn bpf<T>(command: libc::c_long, attr: &mut T) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a live, initialised attribute of the layout the
    // kernel expects for `command`, and its size is passed along; pointers
    // inside it point to buffers that outlive the call.
    let result = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            command,
            std::ptr::from_mut(attr),
            std::mem::size_of::<T>(),
        )
    };
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// Takes ownership of a descriptor that bpf(2) returned.
fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: a fresh descriptor from the kernel that nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

// ANCHOR: attach_device_program
/// Loads `program` and attaches it to the v2 cgroup at `dir`, in place of
/// the device programs attached there before (so that applying the rules
/// again does not pile up programs). Needs root (`CAP_SYS_ADMIN`). The
/// attachment lives as long as the cgroup: removing the directory frees
/// the program.
pub fn attach_device_program(dir: &Path, program: &[BpfInsn]) -> Result<(), CgroupError> {
    let failed = |action| {
        move |source: io::Error| CgroupError::DeviceProgram {
            action,
            path: dir.to_path_buf(),
            source,
            verifier_log: String::new(),
        }
    };
    let cgroup = std::fs::File::open(dir).map_err(failed("open"))?;
    let loaded = load(dir, program)?;
    let before = attached_programs(&cgroup).map_err(failed("list the programs attached to"))?;
    let mut attach = AttachAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: loaded.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
        ..AttachAttr::default()
    };
    bpf(BPF_PROG_ATTACH, &mut attach).map_err(failed("attach a device program to"))?;
    // The new program is in force: the old ones can go. One that went
    // meanwhile (ENOENT) is fine.
    for id in before {
        let mut get = GetFdAttr {
            prog_id: id,
            ..GetFdAttr::default()
        };
        let old = match bpf(BPF_PROG_GET_FD_BY_ID, &mut get) {
            Ok(fd) => owned(fd),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(failed("open an old device program of")(e)),
        };
        let mut detach = AttachAttr {
            target_fd: cgroup.as_raw_fd() as u32,
            attach_bpf_fd: old.as_raw_fd() as u32,
            attach_type: BPF_CGROUP_DEVICE,
            ..AttachAttr::default()
        };
        match bpf(BPF_PROG_DETACH, &mut detach) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(failed("detach an old device program from")(e)),
        }
    }
    Ok(())
}
// ANCHOR_END: attach_device_program

/// BPF_PROG_LOAD. On a refusal, loads again with the verifier's log on, so
/// that the error says which instruction it did not accept and why.
fn load(dir: &Path, program: &[BpfInsn]) -> Result<OwnedFd, CgroupError> {
    let license = CString::new("MIT").expect("no NUL byte");
    let mut name = [0u8; 16];
    name[..7].copy_from_slice(b"devices");
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: program.len() as u32,
        insns: program.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_name: name,
        ..ProgLoadAttr::default()
    };
    let source = match bpf(BPF_PROG_LOAD, &mut attr) {
        Ok(fd) => return Ok(owned(fd)),
        Err(source) => source,
    };
    let mut log = vec![0u8; LOG_SIZE];
    attr.log_level = 1;
    attr.log_size = LOG_SIZE as u32;
    attr.log_buf = log.as_mut_ptr() as u64;
    // The second try fails too (or, if it passes, the first error stands).
    if let Ok(fd) = bpf(BPF_PROG_LOAD, &mut attr) {
        drop(owned(fd));
    }
    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
    Err(CgroupError::DeviceProgram {
        action: "load the device program for",
        path: dir.to_path_buf(),
        source,
        verifier_log: String::from_utf8_lossy(&log[..end]).trim().to_string(),
    })
}

/// How many device programs are attached to the v2 cgroup at `dir` itself
/// (those of its parents, which apply too, are not counted).
pub fn attached_device_programs(dir: &Path) -> Result<usize, CgroupError> {
    let failed = |action| {
        move |source: io::Error| CgroupError::DeviceProgram {
            action,
            path: dir.to_path_buf(),
            source,
            verifier_log: String::new(),
        }
    };
    let cgroup = std::fs::File::open(dir).map_err(failed("open"))?;
    let ids = attached_programs(&cgroup).map_err(failed("list the programs attached to"))?;
    Ok(ids.len())
}

/// The ids of the device programs attached to the cgroup itself (not
/// those it inherits).
fn attached_programs(cgroup: &std::fs::File) -> io::Result<Vec<u32>> {
    let mut ids = vec![0u32; 64];
    let mut query = QueryAttr {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        ..QueryAttr::default()
    };
    bpf(BPF_PROG_QUERY, &mut query)?;
    ids.truncate(query.prog_cnt as usize);
    Ok(ids)
}
