use nix::sys::signal::{SigSet, Signal};

use process::ExitStatus;

// ANCHOR: is_forwarded
/// Whether PID 1 passes this signal on to the application.
///
/// Everything a person or a supervisor might send to ask something of the
/// application is; not SIGCHLD (that one is for PID 1 itself), not SIGKILL
/// and SIGSTOP (they cannot be caught, so never reach us), and not the
/// signals the kernel sends a process about its own faults.
pub fn is_forwarded(signal: Signal) -> bool {
    // exercise 2: say whether PID 1 passes `signal` on to the application
    // hint: Most signals are requests to the application (stop, reload, dump): pass them on. Think about the few that are not.
    // hint: Three kinds stay out: the one about PID 1's own children, the two that can never be caught (so never reach us), and the ones the kernel sends a process about its own faults (bad memory access, bad arithmetic, bad instruction, trap, bad system call).
    // hint: `!matches!(signal, Signal::SIGCHLD | Signal::SIGKILL | Signal::SIGSTOP | Signal::SIGSEGV | Signal::SIGBUS | Signal::SIGFPE | Signal::SIGILL | Signal::SIGTRAP | Signal::SIGSYS)`.
    !matches!(
        signal,
        Signal::SIGCHLD
            | Signal::SIGKILL
            | Signal::SIGSTOP
            | Signal::SIGSEGV
            | Signal::SIGBUS
            | Signal::SIGFPE
            | Signal::SIGILL
            | Signal::SIGTRAP
            | Signal::SIGSYS
    )
}
// ANCHOR_END: is_forwarded

/// The signals the init stages wait for: SIGCHLD, every forwarded one, and
/// the real-time signals (applications use them as their own requests, and
/// none of them is a fault).
pub(crate) fn waited_signals() -> SigSet {
    let mut set = SigSet::empty();
    for signal in Signal::iterator() {
        if signal == Signal::SIGCHLD || is_forwarded(signal) {
            set.add(signal);
        }
    }
    let numbers: Vec<libc::c_int> = real_time_signals().collect();
    with_numbers(&set, &numbers)
}

/// The real-time signals, SIGRTMIN to SIGRTMAX as the C library numbers
/// them (it keeps the first two or three for its threads). nix's `Signal`
/// has no variant for them, so they travel as numbers.
pub(crate) fn real_time_signals() -> std::ops::RangeInclusive<libc::c_int> {
    libc::SIGRTMIN()..=libc::SIGRTMAX()
}

/// `set` with the signals `numbers` added (real-time ones included).
pub(crate) fn with_numbers(set: &SigSet, numbers: &[libc::c_int]) -> SigSet {
    let mut raw = *set.as_ref();
    for &number in numbers {
        // SAFETY: `raw` is an initialized signal set; an invalid number is
        // refused with an error, never undefined behaviour.
        unsafe { libc::sigaddset(&mut raw, number) };
    }
    // SAFETY: `raw` was initialized from a valid set.
    unsafe { SigSet::from_sigset_t_unchecked(raw) }
}

/// A set of the signals `numbers`.
pub(crate) fn signal_set(numbers: &[libc::c_int]) -> SigSet {
    with_numbers(&SigSet::empty(), numbers)
}

/// The signal numbers in `set`, real-time ones included (`SigSet::iter`
/// knows only nix's `Signal`s).
fn numbers(set: &SigSet) -> impl Iterator<Item = libc::c_int> + '_ {
    // SAFETY: sigismember only reads the initialized set.
    (1..=libc::SIGRTMAX())
        .filter(move |&number| unsafe { libc::sigismember(set.as_ref(), number) } == 1)
}

/// Waits for one of `set` (which must be blocked) and returns its number.
pub(crate) fn wait_for(set: &SigSet) -> nix::Result<libc::c_int> {
    let mut number = 0;
    // SAFETY: both pointers are valid for the call.
    let error = unsafe { libc::sigwait(set.as_ref(), &mut number) };
    if error == 0 {
        Ok(number)
    } else {
        Err(nix::errno::Errno::from_raw(error))
    }
}

extern "C" fn ignore(_: libc::c_int) {}

/// Sets the disposition of signal `number`.
fn set_disposition(
    number: libc::c_int,
    handler: libc::sighandler_t,
    flags: libc::c_int,
) -> nix::Result<()> {
    // SAFETY: an all-zero sigaction is a valid value, filled in below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler;
    action.sa_flags = flags;
    // SAFETY: the pointers are valid; the handler, if any, does nothing, so
    // it is async-signal-safe.
    nix::errno::Errno::result(unsafe {
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(number, &action, std::ptr::null_mut())
    })
    .map(drop)
}

/// Blocks the waited signals and gives each a handler.
///
/// The handler never runs (the signals are blocked and taken with
/// `sigwait`), but it must exist: the kernel drops a signal sent to the init
/// of a PID namespace when its disposition is the default one.
pub(crate) fn take_over(set: &SigSet) -> nix::Result<()> {
    for number in numbers(set) {
        set_disposition(
            number,
            ignore as extern "C" fn(libc::c_int) as libc::sighandler_t,
            libc::SA_RESTART,
        )?;
    }
    set.thread_block()
}

/// Undoes [`take_over`] in a child, before it execs the application.
pub(crate) fn restore(set: &SigSet) -> nix::Result<()> {
    for number in numbers(set) {
        set_disposition(number, libc::SIG_DFL, 0)?;
    }
    set.thread_unblock()
}

// ANCHOR: exit_like
/// Ends this process the way the application ended, so that whoever waits
/// for us (the supervisor) sees the application's status: the same exit
/// code, or death by the same signal.
pub fn exit_like(status: ExitStatus) -> ! {
    // exercise 5: end this process the way the application ended: the same exit code, or death by the same signal
    // hint: An exit code is easy to pass on. A signal is harder: to die "by SIGTERM" the process must receive SIGTERM with its default action in place.
    // hint: Init took the signals over (handlers, blocked): undo that for the one signal (the helper `restore` does it for a SigSet), then send it to yourself with `kill(getpid(), signal)`. Some signals' default action is to do nothing: then you are still alive, and the shell convention 128 + signal is the code to exit with. Real-time signals (SIGRTMIN+n) have no nix `Signal`: keep the number.
    // hint: Code(code) → std::process::exit(code). Signal(number): `restore(&signal_set(&[number]))` (a SigSet of that one number), `unsafe { libc::kill(libc::getpid(), number) }`; then, in every case, `std::process::exit(128 + number)`.
    match status {
        ExitStatus::Code(code) => std::process::exit(code),
        ExitStatus::Signal(number) => {
            let _ = restore(&signal_set(&[number]));
            // SAFETY: kill only sends a signal.
            unsafe { libc::kill(libc::getpid(), number) };
            std::process::exit(128 + number)
        }
    }
}
// ANCHOR_END: exit_like
