import Foundation
import Rules

/// Loads the home's files away from the broker's thread, one load at a time.
///
/// Reading and parsing YAML can take long (a large home, a slow disk, a named
/// pipe left in `rules/`), so each load runs on a thread of its own and hands
/// its outcome back as one of the daemon's inputs, in order with the rest.
/// A request made while a load runs is remembered (the latest reason wins)
/// and starts when that load ends. A load that never ends holds back later
/// reloads, never the broker or the rules in force.
///
/// Owned by the daemon's loop: one owner, no locks.
final class HomeLoads {
    /// What one load found, and why it ran.
    struct Outcome: Sendable {
        var reason: String
        var result: Result<Home, DiagnosticList>
    }

    private enum State {
        case idle
        /// A load runs; `next` is the reason of a request made meanwhile.
        case loading(next: String?)
    }

    private var state = State.idle
    private let load: @Sendable () -> Result<Home, DiagnosticList>
    private let deliver: @Sendable (Outcome) -> Void

    /// - Parameters:
    ///   - load: reads the files; runs on a thread of its own.
    ///   - deliver: takes the outcome to the daemon's loop, which then
    ///     calls `finished()`.
    init(load: @escaping @Sendable () -> Result<Home, DiagnosticList>, deliver: @escaping @Sendable (Outcome) -> Void) {
        self.load = load
        self.deliver = deliver
    }

    /// Loads now, or after the load that is running.
    func request(_ reason: String) {
        switch state {
        case .idle: start(reason)
        case .loading: state = .loading(next: reason)
        }
    }

    /// The running load's outcome was handled: starts the one requested
    /// meanwhile, if any.
    func finished() {
        guard case .loading(let next) = state else { return }
        state = .idle
        if let next { start(next) }
    }

    private func start(_ reason: String) {
        state = .loading(next: nil)
        let load = self.load, deliver = self.deliver
        let thread = Thread {
            Self.nameCurrentThread("homerules-load")
            deliver(Outcome(reason: reason, result: load()))
        }
        thread.start()
    }

    /// Names the calling thread for `top -H`, `ps -L` and debuggers. Not
    /// through `Thread.name`: on Linux, Foundation applies it with the
    /// thread handle its parent stores only after the thread has started,
    /// and a new thread can outrun that.
    private static func nameCurrentThread(_ name: String) {
        #if os(Linux)
        let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = name.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, $0.count - 1) }
        close(descriptor)
        #else
        Thread.current.name = name
        #endif
    }
}
