/// Reads and writes the files of a table: metadata JSON, manifest lists, manifests, data files.
///
/// Locations are URIs as stored in table metadata: `s3://bucket/key`, `file:///abs/path` or a plain
/// absolute path. Implementations: ``LocalFileIO`` (local filesystem) and `S3FileIO` (module IcebergS3).
/// Every method is safe to call concurrently; blocking I/O never runs on Swift's cooperative pool.
///
/// ```swift
/// let io: any FileIO = LocalFileIO()
/// try await io.writeIfAbsent("/tmp/wh/t/metadata/v1.metadata.json", bytes: Array(json.utf8))
/// let back = try await io.read("/tmp/wh/t/metadata/v1.metadata.json")
/// ```
public protocol FileIO: Sendable {
    /// The whole object. Throws ``IcebergError`` with code `.notFound` when it does not exist.
    func read(_ location: String) async throws -> [UInt8]
    /// `range` of the object's bytes (a suffix read when the range runs past the end is clamped).
    func read(_ location: String, range: Range<Int64>) async throws -> [UInt8]
    /// The object's size in bytes. Throws `.notFound` when it does not exist.
    func size(_ location: String) async throws -> Int64
    /// Creates or replaces the object.
    func write(_ location: String, bytes: [UInt8]) async throws
    /// Creates the object only if nothing exists at `location` (S3 If-None-Match `*`, O_EXCL locally).
    /// Throws ``IcebergError`` with code `.alreadyExists` when something does.
    func writeIfAbsent(_ location: String, bytes: [UInt8]) async throws
    /// Deletes the object; deleting a missing object is not an error.
    func delete(_ location: String) async throws
    /// Whether an object exists at `location`.
    func exists(_ location: String) async throws -> Bool
    /// Every object whose location starts with `prefix`, with its size, in lexicographic order.
    func list(prefix: String) async throws -> [FileInfo]
    /// Creates or replaces the object with the contents of a local file. Implementations stream it (a local
    /// copy, an S3 multipart upload); the default reads the file into memory and calls ``write(_:bytes:)``.
    func write(_ location: String, contentsOfFile path: String) async throws
}

extension FileIO {
    public func write(_ location: String, contentsOfFile path: String) async throws {
        let bytes = try await BlockingExecutor.run { try LocalFileIO.readFile(path, location: path, range: nil) }
        try await write(location, bytes: bytes)
    }
}

/// One object found by ``FileIO/list(prefix:)``.
public struct FileInfo: Sendable, Equatable {
    /// The object's full location, in the same form as the listed prefix.
    public var location: String
    /// Size in bytes.
    public var size: Int64
    /// Last modification time, in milliseconds since the Unix epoch, when known.
    public var lastModifiedMillis: Int64?

    public init(location: String, size: Int64, lastModifiedMillis: Int64? = nil) {
        self.location = location
        self.size = size
        self.lastModifiedMillis = lastModifiedMillis
    }
}
