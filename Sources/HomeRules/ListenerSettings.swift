import Foundation
import MQTTBroker
import Rules
import Yams

/// The `listeners:` list of the settings file: mosquitto.conf's listener
/// options, one mapping per listener.
///
/// ```yaml
/// per_listener_settings: true
/// listeners:
///   - { port: 1883, host: 127.0.0.1, allow_anonymous: true }
///   - { port: 1884, host: 0.0.0.0, password_file: passwords }
///   - port: 8883
///     host: 0.0.0.0
///     protocol: mqtts            # implied by certfile and keyfile
///     cafile: certs/ca.crt
///     certfile: certs/server.crt
///     keyfile: certs/server.key
///     require_certificate: true
///     use_identity_as_username: true
/// ```
enum ListenerSettings {
    static let securityKeys = ["allow_anonymous", "password_file", "acl_file"]
    static let tlsKeys = ["cafile", "certfile", "keyfile", "require_certificate", "use_identity_as_username"]
    static let keys = ["host", "port", "protocol"] + securityKeys + tlsKeys

    static func read(
        _ node: Node, defaults: BrokerConfiguration.Security, perListenerSettings: Bool, base: URL, reader: inout YAMLReader
    ) -> [BrokerConfiguration.Listener] {
        reader.items(node).compactMap { item in
            guard let mapping = reader.mapping(item, as: "a listener", allowed: keys) else { return nil }
            return listener(mapping, defaults: defaults, perListenerSettings: perListenerSettings, base: base, reader: &reader)
        }
    }

    private static func listener(
        _ mapping: YAMLMapping, defaults: BrokerConfiguration.Security, perListenerSettings: Bool, base: URL,
        reader: inout YAMLReader
    ) -> BrokerConfiguration.Listener? {
        func path(_ key: String) -> String? {
            mapping[key].flatMap { reader.text($0, for: key) }.map { ServeSettings.resolve($0, against: base) }
        }
        func flag(_ key: String) -> Bool? {
            mapping[key].flatMap { reader.bool($0, for: key) }
        }

        var security = defaults
        for entry in mapping.entries where securityKeys.contains(entry.key) && !perListenerSettings {
            reader.error("'\(entry.key)' in a listener needs 'per_listener_settings: true'; without it, set it at the top level for every listener", at: entry.keyNode)
        }
        if perListenerSettings {
            if let allow = flag("allow_anonymous") { security.allowAnonymous = allow }
            if let file = path("password_file") { security.passwordFile = file }
            if let file = path("acl_file") { security.aclFile = file }
        }

        var protocolName = mapping["protocol"].flatMap { reader.text($0, for: "protocol") }
        if let name = protocolName, name != "mqtt" && name != "mqtts" {
            reader.error("unknown protocol '\(name)'; use mqtt or mqtts", at: mapping["protocol"]!)
            protocolName = nil
        }
        let certFile = path("certfile"), keyFile = path("keyfile")
        let wantsTLS = protocolName == "mqtts" || (protocolName == nil && (certFile != nil || keyFile != nil))
        var tls: BrokerConfiguration.TLSFiles?
        if wantsTLS {
            guard let certFile, let keyFile else {
                reader.error("a TLS listener needs both 'certfile' and 'keyfile' (`homerules certs DIR` makes them)", at: mapping.node)
                return nil
            }
            tls = BrokerConfiguration.TLSFiles(
                caFile: path("cafile"), certFile: certFile, keyFile: keyFile,
                requireCertificate: flag("require_certificate") ?? false,
                useIdentityAsUsername: flag("use_identity_as_username") ?? false)
        } else {
            for entry in mapping.entries where tlsKeys.contains(entry.key) {
                reader.error("'\(entry.key)' is for TLS listeners (protocol: mqtts)", at: entry.keyNode)
            }
        }

        let host = mapping["host"].flatMap { reader.text($0, for: "host") } ?? "127.0.0.1"
        let port = mapping["port"].flatMap { reader.integer($0, for: "port", in: 0...65_535) } ?? (tls == nil ? 1883 : 8883)
        return BrokerConfiguration.Listener(host: host, port: port, tls: tls, security: security)
    }
}
