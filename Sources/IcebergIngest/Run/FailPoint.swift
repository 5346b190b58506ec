import Foundation

/// Named points where a test can make the process stop dead, as a crash would: set
/// `ICEBERG_INGEST_FAIL_POINT` to one of ``names`` and the process exits with code 86 when it gets there.
/// Used by the crash tests to check that a run after any crash neither loses nor repeats a row.
package enum FailPoint {
    /// The points, in the order a commit passes them.
    package static let names = ["after-checkpoint", "before-upload", "after-upload", "after-manifest", "after-swap"]
    static let environmentVariable = "ICEBERG_INGEST_FAIL_POINT"
    static let exitCode: Int32 = 86
    private static let armed = ProcessInfo.processInfo.environment[environmentVariable]

    package static func check(_ name: String) {
        guard let armed, armed == name else { return }
        FileHandle.standardError.write(Data("iceberg-ingest: fail point '\(name)' reached, exiting\n".utf8))
        exit(exitCode)
    }
}
