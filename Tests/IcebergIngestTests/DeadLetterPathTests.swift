import Foundation
import Testing

@testable import IcebergIngest

/// Object keys are data, never paths: the dead-letter file of any key stays inside the dead-letter folder,
/// and two keys never share a file.
@Suite struct DeadLetterPathTests {
    static let hostileKeys = [
        "prefix/2025/01/02/03/../../../../../../other-bucket/secret.json",
        String(repeating: "../", count: 20) + "etc/passwd",
        "./a/./b/.", "a//b", "a/b", "/leading/slash", "trailing/", "a%2Fb", "a/%2E%2E/b", "%", "%25",
        "unicode/é/日本/🙂.json", "control/\u{1}\u{7f}\n\r\t.json", "space and+plus?&=#.json",
        String(repeating: "k", count: 1_024), String(repeating: "é", count: 300) + "/x", "..", ".", "",
    ]

    @Test func everyKeyStaysInsideItsFolder() {
        var seen: [String: String] = [:]
        for key in Self.hostileKeys {
            let path = DeadLetters.safeRelativePath(forKey: key)
            let segments = path.split(separator: "/", omittingEmptySubsequences: false)
            #expect(!path.hasPrefix("/"), "\(key): \(path)")
            for segment in segments {
                #expect(!segment.isEmpty && segment != "." && segment != "..", "\(key): \(path)")
                #expect(segment.utf8.count <= 255 - ".bad.jsonl".utf8.count, "\(key): a segment of \(segment.utf8.count) bytes")
                #expect(!segment.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }, "\(key): \(path)")
            }
            // Resolving the path as a file system would still lands below the folder.
            let resolved = URL(fileURLWithPath: "/base/dead-letter/" + path + ".bad.jsonl").standardizedFileURL.path
            #expect(resolved.hasPrefix("/base/dead-letter/"), "\(key) resolves to \(resolved)")
            if let other = seen[path] { Issue.record("'\(key)' and '\(other)' share \(path)") }
            seen[path] = key
        }
    }

    @Test func ordinaryKeysStayReadable() {
        #expect(DeadLetters.safeRelativePath(forKey: "events/2026/11/24/10/part-0001.json.gz") == "events/2026/11/24/10/part-0001.json.gz")
        #expect(DeadLetters.safeRelativePath(forKey: "a b/c") == "a%20b/c")
    }
}
