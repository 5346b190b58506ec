import IcebergCore

extension CheckpointStore {
    /// A version whose catalog swap got no clear answer (`commit-state-unknown`): the run that wrote it
    /// ended without knowing whether the table took it, and a catalog server that went on after its gateway
    /// timed out may still land it. Until it settles, recovery must not discard the version nor delete its
    /// files (the snapshot would then name files that are gone), nor write the same version number again.
    public struct UnsettledCommit: Sendable, Equatable {
        /// The checkpoint version the commit carried.
        public var version: Int64
        /// The snapshot the commit adds (in the table's history once it landed); nil when neither the
        /// record nor the version can be read (the version alone then says whether it landed).
        public var snapshotID: Int64?
        /// When the run gave up on the answer, by its clock, in milliseconds since the Unix epoch (for a run
        /// that died with its swap in flight: when its manifest list was written).
        public var atMillis: Int64

        public init(version: Int64, snapshotID: Int64?, atMillis: Int64) {
            self.version = version
            self.snapshotID = snapshotID
            self.atMillis = atMillis
        }
    }

    /// Where the record of version `version`'s unknown outcome is: beside the version,
    /// `<20-digit version>.unknown` (listed with the versions).
    public func unsettledLocation(of version: Int64) -> String {
        directory + Self.versionName(version) + ".unknown"
    }

    /// The version a listed unknown-outcome record is about; nil for any other file.
    func unsettledVersion(at location: String) -> Int64? {
        guard location.hasPrefix(directory), location.hasSuffix(".unknown") else { return nil }
        return Int64(location.dropFirst(directory.count).dropLast(8))
    }

    /// Records that `commit`'s outcome is unknown, for the next run's recovery (a small JSON file).
    public func markUnsettled(_ commit: UnsettledCommit) async throws {
        let record = JSONValue.object([
            ("version", .int(commit.version)), ("snapshotId", commit.snapshotID.map(JSONValue.int) ?? .null), ("atMillis", .int(commit.atMillis)),
        ])
        let location = unsettledLocation(of: commit.version)
        do {
            try await io.write(location, bytes: Array(record.serialized().utf8))
        } catch {
            throw CheckpointError(.io, "cannot write \(location)", cause: error)
        }
    }

    /// Reads the record at `location` (of `version`, ahead of the table). A record that cannot be read or
    /// decoded still says the outcome was unknown: it counts as written at `fallbackMillis` (its listed
    /// modification time, 0 when unknown), with the snapshot id the version itself names, if any.
    func loadUnsettled(at location: String, version: Int64, fallbackMillis: Int64?, snapshotID: Int64?) async -> UnsettledCommit {
        if let bytes = try? await io.read(location), let record = try? JSONValue.parse(bytes, source: location),
            case .int(let id)? = record["snapshotId"], case .int(let at)? = record["atMillis"], record["version"] == .int(version)
        {
            return UnsettledCommit(version: version, snapshotID: id, atMillis: at)
        }
        return UnsettledCommit(version: version, snapshotID: snapshotID, atMillis: fallbackMillis ?? 0)
    }
}
