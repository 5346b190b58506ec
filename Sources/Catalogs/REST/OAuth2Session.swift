import Foundation
import IcebergCore
import S3Reader

/// OAuth2 client credentials for a REST catalog (RFC 6749 section 4.4): asks the token endpoint for an access
/// token, keeps it, and asks again before it expires (one fifth of its lifetime before, at most five
/// minutes), so requests never carry an expired token. Concurrent callers share one token request. The
/// lifetime comes from `expires_in`, else from a JWT's `exp` claim; a token with neither is kept until the
/// server answers 401, when ``invalidate(_:)`` drops it.
///
/// The secret is sent only to the token endpoint and never appears in errors or logs.
actor OAuth2Session {
    let tokenURL: String
    let clientID: String?
    let clientSecret: String
    let scope: String
    let transport: any HTTPTransport
    let clock: @Sendable () -> Date
    private var current: (token: String, refreshAt: Date?)?
    private var fetching: Task<(token: String, refreshAt: Date?), any Error>?

    init(tokenURL: String, credential: String, scope: String, transport: any HTTPTransport, clock: @escaping @Sendable () -> Date) {
        self.tokenURL = tokenURL
        if let colon = credential.firstIndex(of: ":") {
            clientID = String(credential[..<colon])
            clientSecret = String(credential[credential.index(after: colon)...])
        } else {
            clientID = nil
            clientSecret = credential
        }
        self.scope = scope
        self.transport = transport
        self.clock = clock
    }

    /// Whether this session asks the same endpoint with the same credentials as `other` would.
    nonisolated func matches(tokenURL: String, credential: String, scope: String) -> Bool {
        self.tokenURL == tokenURL && self.scope == scope && ((clientID.map { "\($0):" } ?? "") + clientSecret) == credential
    }

    /// A token that is not about to expire.
    func token() async throws -> String {
        if let current, current.refreshAt.map({ clock() < $0 }) ?? true { return current.token }
        if let fetching { return try await fetching.value.token }
        let task = Task { try await self.fetch() }
        fetching = task
        defer { fetching = nil }
        let fresh = try await task.value
        current = fresh
        return fresh.token
    }

    /// Forgets `token` (the server refused it); the next ``token()`` asks for a new one.
    func invalidate(_ token: String) {
        if current?.token == token { current = nil }
    }

    private func fetch() async throws -> (token: String, refreshAt: Date?) {
        var form: [(String, String)] = [("grant_type", "client_credentials")]
        if let clientID { form.append(("client_id", clientID)) }
        form += [("client_secret", clientSecret), ("scope", scope)]
        let body = form.map { "\(S3URIEncoding.queryComponent($0.0))=\(S3URIEncoding.queryComponent($0.1))" }.joined(separator: "&")
        let request = HTTPRequest(
            method: "POST", url: tokenURL,
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")], body: Array(body.utf8))
        let issued = clock()
        let response: HTTPResponse
        do {
            response = try await transport.send(request)
        } catch {
            throw IcebergError(.catalog, "OAuth2 token request to \(tokenURL) failed: \(error)", isRetryable: true)
        }
        guard response.status == 200 else {
            let model = RESTErrorModel(response)
            throw IcebergError(.catalog, "OAuth2 token request to \(tokenURL) was refused: \(model.summary)", isRetryable: response.status >= 500)
        }
        let json = try RESTJSON.parse(response.body, source: "OAuth2 token response from \(tokenURL)")
        guard let token = RESTJSON.string(json["access_token"]), !token.isEmpty else {
            throw IcebergError(.catalog, "OAuth2 token response from \(tokenURL) has no access_token")
        }
        if let type = RESTJSON.string(json["token_type"]), type.lowercased() != "bearer" {
            throw IcebergError(.unsupported, "OAuth2 token response from \(tokenURL) has token_type '\(type)'; only bearer tokens are supported")
        }
        var expiresAt: Date?
        if case .int(let seconds)? = json["expires_in"] {
            expiresAt = issued.addingTimeInterval(TimeInterval(seconds))
        } else if let exp = Self.jwtExpiry(token) {
            expiresAt = exp
        }
        let refreshAt = expiresAt.map { expiry in
            let lifetime = max(0, expiry.timeIntervalSince(issued))
            return expiry.addingTimeInterval(-min(300, lifetime / 5))
        }
        return (token, refreshAt)
    }

    /// The `exp` claim of a JWT (`header.payload.signature`, base64url), if the token is one.
    static func jwtExpiry(_ token: String) -> Date? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var payload = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        guard let data = Data(base64Encoded: payload), let json = try? JSONValue.parse(Array(data), source: "JWT"),
            case .int(let exp)? = json["exp"]
        else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(exp))
    }
}
