import Foundation
import IcebergCore
import IcebergS3
import S3Reader

/// The FileIO of a REST catalog's tables: `s3://` (and `s3a://`, `s3n://`) locations through ``S3FileIO``,
/// everything else through ``LocalFileIO``. The S3 side is configured from properties (the catalog's, with a
/// table's `config` and matching `storage-credentials` on top): `s3.endpoint`, `s3.region` or
/// `client.region`, `s3.path-style-access`, and vended `s3.access-key-id`/`s3.secret-access-key`/
/// `s3.session-token`; without vended keys it uses the caller's credentials provider.
struct RESTFileIO: FileIO {
    let local = LocalFileIO()
    let s3: S3FileIO

    init(properties: [String: String], credentials: any CredentialsProvider, transport: any HTTPTransport) {
        let region = properties[RESTProperties.s3Region] ?? properties[RESTProperties.clientRegion]
            ?? ProcessInfo.processInfo.environment["AWS_REGION"] ?? "us-east-1"
        let pathStyle = properties[RESTProperties.s3PathStyleAccess].map { $0.lowercased() == "true" }
        let configuration = S3Configuration(region: region, endpoint: properties[RESTProperties.s3Endpoint], usePathStyle: pathStyle)
        var provider = credentials
        if let id = properties[RESTProperties.s3AccessKeyID], let secret = properties[RESTProperties.s3SecretAccessKey] {
            provider = StaticCredentialsProvider(
                AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: properties[RESTProperties.s3SessionToken]))
        }
        s3 = S3FileIO(client: S3Client(configuration: configuration, credentials: provider, transport: transport))
    }

    static func isS3(_ location: String) -> Bool {
        location.hasPrefix("s3://") || location.hasPrefix("s3a://") || location.hasPrefix("s3n://")
    }

    private func io(_ location: String) -> any FileIO { Self.isS3(location) ? s3 : local }

    func read(_ location: String) async throws -> [UInt8] { try await io(location).read(location) }
    func read(_ location: String, range: Range<Int64>) async throws -> [UInt8] { try await io(location).read(location, range: range) }
    func size(_ location: String) async throws -> Int64 { try await io(location).size(location) }
    func write(_ location: String, bytes: [UInt8]) async throws { try await io(location).write(location, bytes: bytes) }
    func writeIfAbsent(_ location: String, bytes: [UInt8]) async throws { try await io(location).writeIfAbsent(location, bytes: bytes) }
    func delete(_ location: String) async throws { try await io(location).delete(location) }
    func exists(_ location: String) async throws -> Bool { try await io(location).exists(location) }
    func list(prefix: String) async throws -> [FileInfo] { try await io(prefix).list(prefix: prefix) }
    func write(_ location: String, contentsOfFile path: String) async throws {
        try await io(location).write(location, contentsOfFile: path)
    }
}
