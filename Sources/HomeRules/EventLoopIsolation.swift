import NIOCore

/// An actor whose executor is a NIO event loop: code isolated to it runs on
/// that loop's thread, so work that talks to the broker at every step does
/// not hop between threads to do it.
actor EventLoopIsolation {
    let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        loop.executor.asUnownedSerialExecutor()
    }
}
