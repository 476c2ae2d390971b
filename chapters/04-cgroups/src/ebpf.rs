//! A tiny eBPF interpreter, to check a v2 device program without a kernel.
//!
//! It decodes each instruction from its bits (class, operation, operand
//! source), as the kernel does, rather than trusting the names the code
//! under test gives its opcodes, and refuses what the kernel's verifier
//! would refuse in such a program: reading a register never written, a load
//! outside the context, a jump out of the program, no answer in r0, an
//! answer other than 0 or 1.

use crate::cgroups::{BpfInsn, DeviceAccess, DeviceKind};

/// The size of `struct bpf_cgroup_dev_ctx`: access_type, major, minor.
const CTX_SIZE: i64 = 12;
/// Where the interpreter pretends the context lives.
const CTX_BASE: u64 = 0x0c7c_0000_0000_0000;
/// More steps than any loop-free device program takes.
const MAX_STEPS: usize = 100_000;

/// Runs the device program for one request, as the kernel would on an
/// `open` or `mknod` by a process of the cgroup: `Ok(true)` when it
/// allows, `Ok(false)` when it refuses (EPERM), `Err` when the program is
/// one the kernel would not run.
pub fn run_device_program(
    program: &[BpfInsn],
    kind: DeviceKind,
    major: u32,
    minor: u32,
    access: DeviceAccess,
) -> Result<bool, String> {
    let mut ctx = Vec::with_capacity(CTX_SIZE as usize);
    ctx.extend_from_slice(&((access.bits() << 16) | kind.bpf_code()).to_le_bytes());
    ctx.extend_from_slice(&major.to_le_bytes());
    ctx.extend_from_slice(&minor.to_le_bytes());
    let mut regs: [Option<u64>; 11] = [None; 11];
    regs[1] = Some(CTX_BASE);
    let mut pc = 0usize;
    for _ in 0..MAX_STEPS {
        let Some(insn) = program.get(pc) else {
            return Err(format!("ran off the end of the program at {pc}"));
        };
        let here = pc;
        let at = |what: &str| format!("instruction {here} ({insn}): {what}");
        let (dst, src) = (usize::from(insn.dst()), usize::from(insn.src()));
        if dst > 10 || src > 10 {
            return Err(at("no such register"));
        }
        let read = |regs: &[Option<u64>; 11], r: usize| {
            regs[r].ok_or_else(|| at(&format!("reads r{r}, which was never written")))
        };
        let class = insn.code & 0x07;
        let operation = insn.code & 0xf0;
        let from_register = insn.code & 0x08 != 0;
        // K operands are the immediate, sign-extended as the kernel does.
        let imm = i64::from(insn.imm) as u64;
        pc += 1;
        match class {
            // LDX: dst = *(size *)(src + off); only word loads of the context.
            0x01 => {
                if insn.code & 0xe0 != 0x60 || insn.code & 0x18 != 0x00 {
                    return Err(at(
                        "only 32-bit loads (BPF_LDX | BPF_MEM | BPF_W) are modelled",
                    ));
                }
                let base = read(&regs, src)?;
                let offset = base.wrapping_sub(CTX_BASE) as i64 + i64::from(insn.off);
                if base != CTX_BASE || offset < 0 || offset + 4 > CTX_SIZE || offset % 4 != 0 {
                    return Err(at("loads from outside the context"));
                }
                let bytes: [u8; 4] = ctx[offset as usize..offset as usize + 4]
                    .try_into()
                    .expect("four bytes");
                regs[dst] = Some(u64::from(u32::from_le_bytes(bytes)));
            }
            // ALU (32-bit, zero-extended) and ALU64.
            0x04 | 0x07 => {
                let operand = if from_register {
                    read(&regs, src)?
                } else {
                    imm
                };
                let wide = class == 0x07;
                let value = if operation == 0xb0 {
                    operand
                } else {
                    let current = read(&regs, dst)?;
                    let shift = operand & if wide { 63 } else { 31 };
                    match operation {
                        0x00 => current.wrapping_add(operand),
                        0x10 => current.wrapping_sub(operand),
                        0x40 => current | operand,
                        0x50 => current & operand,
                        0x60 => current << shift,
                        0x70 if wide => current >> shift,
                        0x70 => (current & 0xffff_ffff) >> shift,
                        0xa0 => current ^ operand,
                        _ => return Err(at("an ALU operation the interpreter does not model")),
                    }
                };
                regs[dst] = Some(if wide { value } else { value & 0xffff_ffff });
            }
            // JMP and JMP32.
            0x05 | 0x06 => {
                if operation == 0x90 {
                    if class != 0x05 {
                        return Err(at("exit belongs to the JMP class"));
                    }
                    return match read(&regs, 0)? {
                        0 => Ok(false),
                        1 => Ok(true),
                        other => Err(at(&format!(
                            "returns {other}; a device program returns 0 or 1"
                        ))),
                    };
                }
                let taken = if operation == 0x00 {
                    true
                } else {
                    let mut left = read(&regs, dst)?;
                    let mut right = if from_register {
                        read(&regs, src)?
                    } else {
                        imm
                    };
                    if class == 0x06 {
                        left &= 0xffff_ffff;
                        right &= 0xffff_ffff;
                    }
                    match operation {
                        0x10 => left == right,
                        0x20 => left > right,
                        0x30 => left >= right,
                        0x40 => left & right != 0,
                        0x50 => left != right,
                        0xa0 => left < right,
                        0xb0 => left <= right,
                        _ => return Err(at("a jump the interpreter does not model")),
                    }
                };
                if taken {
                    let target = pc as i64 + i64::from(insn.off);
                    if target < 0 || target as usize >= program.len() {
                        return Err(at(&format!("jumps to {target}, outside the program")));
                    }
                    pc = target as usize;
                }
            }
            _ => return Err(at("an instruction class the interpreter does not model")),
        }
    }
    Err(format!("no exit after {MAX_STEPS} steps"))
}
