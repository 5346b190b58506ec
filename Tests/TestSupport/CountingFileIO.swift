import Foundation
import IcebergCore

/// A FileIO that records each operation passing through to the real one (`read`, `write`, `list`, ...,
/// with its location): what the tests that count a protocol's requests assert on.
public final class CountingFileIO: FileIO, @unchecked Sendable {
    // Safe: every access to `log` holds the lock.
    private let lock = NSLock()
    private var log: [(operation: String, location: String)] = []
    let inner: any FileIO
    /// Whether an upload's end is recorded too, as `"uploaded <location>"`, and how long each upload takes
    /// at least (for tests of what waits for the uploads).
    let recordsUploadEnds: Bool
    let uploadDelay: Duration

    public init(_ inner: any FileIO = LocalFileIO(), recordsUploadEnds: Bool = false, uploadDelay: Duration = .zero) {
        self.inner = inner
        self.recordsUploadEnds = recordsUploadEnds
        self.uploadDelay = uploadDelay
    }

    private func record(_ operation: String, _ location: String) { lock.withLock { log.append((operation, location)) } }

    /// The operations so far, as `"list <prefix>"`, `"read <location>"` and so on, with `root` cut from the front of each location.
    public func operations(under root: String = "") -> [String] {
        lock.withLock { log.map { "\($0.operation) " + ($0.location.hasPrefix(root) ? String($0.location.dropFirst(root.count)) : $0.location) } }
    }

    public func reset() { lock.withLock { log.removeAll() } }

    public func read(_ location: String) async throws -> [UInt8] {
        record("read", location)
        return try await inner.read(location)
    }
    public func read(_ location: String, range: Range<Int64>) async throws -> [UInt8] {
        record("read", location)
        return try await inner.read(location, range: range)
    }
    public func size(_ location: String) async throws -> Int64 {
        record("size", location)
        return try await inner.size(location)
    }
    public func write(_ location: String, bytes: [UInt8]) async throws {
        record("write", location)
        try await inner.write(location, bytes: bytes)
    }
    public func writeIfAbsent(_ location: String, bytes: [UInt8]) async throws {
        record("create", location)
        try await inner.writeIfAbsent(location, bytes: bytes)
    }
    public func write(_ location: String, contentsOfFile path: String) async throws {
        record("upload", location)
        if uploadDelay > .zero { try await Task.sleep(for: uploadDelay) }
        try await inner.write(location, contentsOfFile: path)
        if recordsUploadEnds { record("uploaded", location) }
    }
    public func delete(_ location: String) async throws {
        record("delete", location)
        try await inner.delete(location)
    }
    public func exists(_ location: String) async throws -> Bool {
        record("exists", location)
        return try await inner.exists(location)
    }
    public func list(prefix: String) async throws -> [FileInfo] {
        record("list", prefix)
        return try await inner.list(prefix: prefix)
    }
}
