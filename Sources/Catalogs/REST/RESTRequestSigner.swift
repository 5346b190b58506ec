import Foundation
import S3Reader

/// Signs REST catalog requests with AWS SigV4 (service `execute-api` by default), for catalogs behind API
/// Gateway or AWS's own REST endpoints. Uses S3Reader's signer; the canonical path is the path as sent,
/// URI-encoded once more, as SigV4 wants for every service but S3 (so `%1F` in a namespace signs as `%251F`).
/// The body's SHA-256 is signed and sent as `X-Amz-Content-SHA256`.
struct RESTRequestSigner: Sendable {
    let signer: SigV4Signer
    let credentials: any CredentialsProvider
    let clock: @Sendable () -> Date

    /// Headers to add to a request whose other headers are `headers` (an `Authorization` among them is
    /// moved to `Original-Authorization`, the way Iceberg's Java client keeps a bearer token beside SigV4).
    func sign(method: String, url: String, query: [(String, String)], headers: [(String, String)], body: [UInt8]?) async throws
        -> [(String, String)]
    {
        let (_, host, path) = RESTPaths.split(url)
        var kept = headers.filter { $0.0.lowercased() != "authorization" }
        if let bearer = headers.first(where: { $0.0.lowercased() == "authorization" }) {
            kept.append(("Original-Authorization", bearer.1))
        }
        let request = SignableRequest(
            method: method, host: host, path: S3URIEncoding.path(path), query: query, headers: kept,
            payload: SigV4Signer.Payload.hashing(body ?? []))
        return kept + signer.sign(request, credentials: try await credentials.credentials(), date: clock())
    }
}
