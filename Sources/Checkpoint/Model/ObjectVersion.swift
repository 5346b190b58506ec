/// An object as a listing shows it: what identifies one version of one object.
public struct ObjectVersion: Sendable, Equatable, Hashable {
    /// The object key (without the bucket).
    public var key: String
    /// Size in bytes.
    public var size: Int64
    /// The ETag without surrounding quotes.
    public var etag: String
    /// Last-modified time in milliseconds since the Unix epoch.
    public var lastModifiedMillis: Int64

    public init(key: String, size: Int64, etag: String, lastModifiedMillis: Int64) {
        self.key = key
        self.size = size
        self.etag = etag.trimmingQuotes()
        self.lastModifiedMillis = lastModifiedMillis
    }
}

/// An object the checkpoint has recorded as ingested.
public struct IngestedObject: Sendable, Equatable {
    /// The object as it was when it was read.
    public var version: ObjectVersion
    /// The hour the object's prefix belongs to, in whole hours since the Unix epoch.
    public var hour: Int32
    /// The snapshot whose commit ingested it.
    public var snapshotID: Int64

    public init(version: ObjectVersion, hour: Int32, snapshotID: Int64) {
        self.version = version
        self.hour = hour
        self.snapshotID = snapshotID
    }
}

/// What the checkpoint says about a listed object.
public enum ObjectStatus: Sendable, Equatable {
    /// Never ingested: read it.
    case new
    /// Ingested already, unchanged: skip it.
    case ingested(IngestedObject)
    /// Ingested already, but its ETag or size differ now: the object was overwritten after ingestion.
    /// Never merged silently; the caller applies its ``ChangedObjectPolicy``.
    case changed(previous: IngestedObject)
    /// In an hour at or below the folded horizon: its hour was closed, so it counts as ingested.
    case belowHorizon
}

/// What to do with an object whose ETag or size changed after it was ingested.
public enum ChangedObjectPolicy: String, Sendable, Codable, CaseIterable {
    /// Do not read it again; report it with a warning.
    case skip
    /// Read it again as a new object (its earlier rows stay: the table then holds both versions).
    case reingest
}

extension String {
    /// S3 returns ETags in double quotes; the checkpoint keeps them bare.
    func trimmingQuotes() -> String {
        let utf8 = self.utf8
        guard utf8.first == UInt8(ascii: "\""), utf8.last == UInt8(ascii: "\""), utf8.count >= 2 else { return self }
        return String(decoding: utf8.dropFirst().dropLast(), as: UTF8.self)
    }
}
