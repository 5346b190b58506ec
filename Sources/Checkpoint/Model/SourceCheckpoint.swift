/// What one shard of one source has ingested into a table: a watermark hour and the objects seen in the
/// open window above the folded horizon.
///
/// Time is counted in whole hours since the Unix epoch (the hour an object's prefix names, per the source's
/// layout). With a late-arrival window of `L` hours:
/// - the **watermark** `W` is the newest hour whose files are all ingested and that is at least `L` hours old;
/// - the **horizon** is `W - L`: objects of hours at or below it are folded away (the planner never lists
///   those hours again), objects above it are kept so late arrivals in recent hours are recognised;
/// - so the checkpoint holds at most the objects of `now - horizon` hours, whatever the history's length.
///
/// The horizon never moves back: what was folded stays folded (``foldedThroughHour``) whatever `L` is
/// set to later. Widening the window after a fold keeps the old horizon until the watermark catches up
/// (it never reads a folded object again); narrowing it moves the horizon forward at once.
///
/// ```swift
/// var checkpoint = SourceCheckpoint(source: "s3://raw/events/|firehose", shard: .single, lateArrivalHours: 6)
/// let object = ObjectVersion(key: "events/2026/11/24/10/a.gz", size: 912, etag: "9b2c", lastModifiedMillis: 0)
/// if checkpoint.status(of: object, hour: 494_458) == .new {
///     checkpoint.record(object, hour: 494_458, snapshotID: 42)
/// }
/// checkpoint.advanceWatermark(to: 494_452)   // folds hours <= 494_446
/// ```
public struct SourceCheckpoint: Sendable, Equatable {
    /// Identifies the source: bucket, prefix root and layout, e.g. `s3://bucket/raw/events/|firehose`.
    public var source: String
    /// Which shard of the source this is.
    public var shard: ShardID
    /// The late-arrival window `L`, in hours.
    public var lateArrivalHours: Int32
    /// The version of this checkpoint; each committed run adds one. 0 means nothing committed yet.
    public var version: Int64
    /// `W`: the newest closed hour, or nil before any hour closed.
    public private(set) var watermarkHour: Int32?
    /// The highest hour whose objects have been folded away (nil: none yet).
    public private(set) var foldedThroughHour: Int32?
    /// The hour the source started at (``start(at:)``): earlier hours are not the ingestion's, and a
    /// reconciliation never looks at them (a backfill may).
    public private(set) var startHour: Int32?
    /// Closed hours up to this one were folded by a release that kept no archive of them (a checkpoint of the
    /// format before the archive, upgraded in place): which of their objects are in the table is not known
    /// object by object, so reconciliation never looks at them and a backfill refuses them. Nil for a source
    /// whose folded hours are all archived.
    public private(set) var unarchivedThroughHour: Int32?
    /// Data files written by the run that produced this version: if this version turns out not to be
    /// committed (a crash before the catalog swap), these are the orphans to delete.
    public var pendingDataFiles: [String]
    /// The snapshot id the run that produced this version was about to commit: if this version turns out
    /// not to be committed, that commit's manifests and manifest lists (named with the id) are orphans too.
    public var pendingSnapshotID: Int64?
    var objects: ObjectIndex

    public init(source: String, shard: ShardID, lateArrivalHours: Int32) {
        self.source = source
        self.shard = shard
        self.lateArrivalHours = lateArrivalHours
        self.version = 0
        self.watermarkHour = nil
        self.foldedThroughHour = nil
        self.pendingDataFiles = []
        self.objects = ObjectIndex()
    }

    init(
        source: String, shard: ShardID, lateArrivalHours: Int32, version: Int64, watermarkHour: Int32?, foldedThroughHour: Int32?,
        startHour: Int32? = nil, unarchivedThroughHour: Int32? = nil, pendingDataFiles: [String], pendingSnapshotID: Int64? = nil,
        objects: ObjectIndex
    ) {
        self.source = source
        self.shard = shard
        self.lateArrivalHours = lateArrivalHours
        self.version = version
        self.watermarkHour = watermarkHour
        self.foldedThroughHour = foldedThroughHour
        self.startHour = startHour
        self.unarchivedThroughHour = unarchivedThroughHour
        self.pendingDataFiles = pendingDataFiles
        self.pendingSnapshotID = pendingSnapshotID
        self.objects = objects
    }

    /// `W - L`, or the hour folded through when that is later (a window widened after a fold): hours at or
    /// below it are folded. Nil before the first watermark.
    public var horizonHour: Int32? {
        guard let watermarkHour else { return foldedThroughHour }
        return max(watermarkHour - lateArrivalHours, foldedThroughHour ?? Int32.min)
    }

    /// The first hour a planner must list: one past the horizon (or nil: list from the beginning).
    public var firstOpenHour: Int32? { horizonHour.map { $0 + 1 } }

    /// How many objects are tracked in the open window.
    public var trackedObjectCount: Int { objects.count }

    /// What is known of `object`, listed under `hour`.
    public func status(of object: ObjectVersion, hour: Int32) -> ObjectStatus {
        if let horizon = horizonHour, hour <= horizon { return .belowHorizon }
        guard let row = objects.row(of: object.key) else { return .new }
        if objects.matches(row: row, size: object.size, etag: object.etag) { return .ingested(objects.object(at: row)) }
        return .changed(previous: objects.object(at: row))
    }

    /// The recorded object with this key, if it is in the open window.
    public func recorded(_ key: String) -> IngestedObject? { objects.lookup(key) }

    /// Records `object` as ingested by `snapshotID` (replacing an earlier record of the same key).
    public mutating func record(_ object: ObjectVersion, hour: Int32, snapshotID: Int64) {
        objects.insert(IngestedObject(version: object, hour: hour, snapshotID: snapshotID))
    }

    /// Closes every hour up to `hour` (the watermark never moves back) and folds the objects at or below
    /// the horizon, returning them (for the archive). Objects recorded at or below the horizon since the
    /// last fold (late files read by a reconciliation or a backfill) are folded too.
    @discardableResult
    public mutating func advanceWatermark(to hour: Int32) -> [IngestedObject] {
        if watermarkHour.map({ hour > $0 }) ?? true { watermarkHour = hour }
        guard let horizon = horizonHour else { return [] }
        foldedThroughHour = horizon
        guard objects.hours.contains(where: { $0 <= horizon }) else { return [] }
        let folded = (0..<objects.count).map(objects.object(at:)).filter { $0.hour <= horizon }
        objects = objects.filtered { $0 > horizon }
        return folded
    }

    /// Starts a source that has not been ingested yet at `hour`: earlier hours count as folded (neither
    /// listed nor read, unless a backfill asks). Does nothing once anything was committed or folded.
    public mutating func start(at hour: Int32) {
        guard version == 0, watermarkHour == nil, foldedThroughHour == nil else { return }
        foldedThroughHour = hour - 1
        startHour = hour
    }

    /// Every tracked object, in the order recorded (for status reports and tests).
    public var trackedObjects: [IngestedObject] { (0..<objects.count).map(objects.object(at:)) }

    /// The last-modified time of the newest object in the open window (how far ingestion has come).
    public var newestIngestedMillis: Int64? { (0..<objects.count).lazy.map { objects.object(at: $0).version.lastModifiedMillis }.max() }
}

extension SourceCheckpoint {
    /// Approximate bytes of memory the tracked objects take (what grows with the window).
    public var footprintBytes: Int { objects.footprintBytes }
}

extension SourceCheckpoint {
    /// The first checkpoints of a new shard layout, made from the last committed checkpoints of the old one
    /// (a rescaling): the merged horizon is the oldest of the old horizons, so no hour is closed that some old
    /// shard had open; the merged open window holds every object the old shards tracked above it, plus
    /// `archived` (what old shards had folded between the merged horizon and their own); each new shard gets
    /// the objects it owns. The watermark and start hour are the oldest of the old ones, the unarchived hours
    /// the newest. Every result is version 1 of its shard.
    ///
    /// The horizon of checkpoints merged by a rescaling: the oldest of theirs (nil, "nothing folded", when
    /// any has none).
    public static func mergedHorizon(of checkpoints: [SourceCheckpoint]) -> Int32? { oldest(checkpoints.map(\.horizonHour)) }

    private static func oldest(_ values: [Int32?]) -> Int32? {
        values.isEmpty || values.contains(nil) ? nil : values.compactMap { $0 }.min()
    }

    public static func rescaled(
        from old: [SourceCheckpoint], archived: [IngestedObject], to layout: ShardLayout, source: String, lateArrivalHours: Int32
    ) -> [SourceCheckpoint] {
        let horizon = mergedHorizon(of: old)
        let watermark = oldest(old.map(\.watermarkHour))
        let start = oldest(old.map(\.startHour))
        let unarchived = old.compactMap(\.unarchivedThroughHour).max()
        let objects = old.flatMap(\.trackedObjects) + archived
        return layout.shards.map { shard in
            var index = ObjectIndex()
            for object in objects where shard.owns(key: object.version.key) && horizon.map({ object.hour > $0 }) ?? true {
                index.insert(object)
            }
            return SourceCheckpoint(
                source: source, shard: shard, lateArrivalHours: lateArrivalHours, version: 1, watermarkHour: watermark,
                foldedThroughHour: horizon, startHour: start, unarchivedThroughHour: unarchived, pendingDataFiles: [], objects: index)
        }
    }
}
