import NIOSSL

/// Words for the errors NIOSSL reports when a TLS handshake or session
/// fails, which carry BoringSSL's error stack ("error:1000007d:SSL
/// routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at ...").
enum TLSFailure {
    /// Why TLS failed, for ``MQTTClientError/tlsFailed(_:)``; nil when the
    /// error is not about TLS.
    static func reason(for error: any Error) -> String? {
        switch error {
        case NIOSSLError.handshakeFailed(let underlying):
            return explain(underlying)
        case let error as BoringSSLError:
            return explain(error)
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return "the broker's certificate is not valid for the host name (nor for serverName, when set)"
        default:
            return nil
        }
    }

    private static func explain(_ error: BoringSSLError) -> String {
        let reasons: [String]
        switch error {
        case .sslError(let stack), .unknownError(let stack): reasons = stack.compactMap(reasonCode)
        default: return "\(error)"
        }
        guard let reason = reasons.last else { return "\(error)" }
        switch reason {
        case "CERTIFICATE_VERIFY_FAILED":
            return "certificate verify failed: the broker's certificate is not signed by an authority the client trusts "
                + "(set the CA file), has expired, or does not name the host"
        case let alert where alert.contains("_ALERT_"):
            let name = alert[alert.firstRange(of: "_ALERT_")!.upperBound...].lowercased().replacing("_", with: " ")
            return "the broker refused the handshake (alert: \(name))" + hint(forAlert: name)
        default:
            return reason.lowercased().replacing("_", with: " ")
        }
    }

    private static func hint(forAlert name: String) -> String {
        if name == "certificate required" || name == "handshake failure" {
            return "; the broker may require a client certificate (certificateFile and keyFile)"
        }
        if name.contains("certificate") || name == "unknown ca" {
            return "; the broker did not accept the client certificate: is it signed by the broker's cafile, for a client, and still valid?"
        }
        return ""
    }

    /// The reason code of one BoringSSL error, e.g. `CERTIFICATE_VERIFY_FAILED`.
    private static func reasonCode(_ error: BoringSSLInternalError) -> String? {
        // "Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at file:line"
        let text = error.description
        let end = text.firstRange(of: " at ")?.lowerBound ?? text.endIndex
        guard let colon = text[..<end].lastIndex(of: ":") else { return nil }
        let code = text[text.index(after: colon)..<end]
        return code.isEmpty ? nil : String(code)
    }
}
