import NIOCore

/// Where a client's connection stands. ``ClientSession`` moves between these
/// states, each transition a method that switches over the current one.
///
/// ```
///  idle ──connect()──> connecting ──CONNACK 0──> connected ──disconnect()──> disconnecting ──closed──> idle
///   ^                    │   ^                       │
///   └─ refused, timeout ─┘   └── timer ── waitingToReconnect <── lost (reconnect on)
///      (first connect; a reconnect attempt waits again instead)
/// ```
enum ConnectionState {
    /// No connection and none on its way: before `connect()`, after
    /// `disconnect()`, or after a loss with reconnecting turned off.
    case idle
    /// Reaching the broker, or CONNECT sent and CONNACK awaited.
    case connecting(ConnectAttempt)
    /// CONNACK accepted the connection.
    case connected(EstablishedConnection)
    /// The connection dropped; the next attempt is scheduled.
    case waitingToReconnect(attempt: Int, timer: Scheduled<Void>)
    /// DISCONNECT written; the channel is closing.
    case disconnecting(EstablishedConnection, waiters: [EventLoopPromise<Void>])
}

/// One try at connecting: TCP, CONNECT, CONNACK, bounded by a deadline.
struct ConnectAttempt {
    /// Tells this attempt's channel events from those of channels left behind.
    let connectionID: Int
    /// Set once TCP is connected.
    var channel: (any Channel)?
    let deadline: Scheduled<Void>
    /// The `connect()` caller; nil for an automatic reconnect.
    let waiter: EventLoopPromise<MQTTClient.ConnectResult>?
    /// 0 for `connect()`, 1 and up for automatic reconnects.
    let reconnectAttempt: Int
}

/// A connection whose CONNACK accepted it.
struct EstablishedConnection {
    let connectionID: Int
    let channel: any Channel
    let sessionPresent: Bool
}
