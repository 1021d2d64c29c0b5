import MQTTClient
import Testing

/// Expects connecting with `configuration` to fail in the TLS handshake,
/// for a reason that mentions `text`.
public func expectTLSRefusal(
    _ configuration: MQTTClientConfiguration, containing text: String, sourceLocation: SourceLocation = #_sourceLocation
) async {
    await #expect(sourceLocation: sourceLocation) {
        try await MQTTClient(configuration: configuration).connect()
    } throws: { error in
        guard case MQTTClientError.tlsFailed(let reason) = error else { return false }
        return reason.contains(text)
    }
}
