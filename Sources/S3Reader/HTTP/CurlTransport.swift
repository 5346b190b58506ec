import BlockingThreads
import CCurl
import Foundation

/// HTTP over libcurl. Each request runs `curl_easy_perform` on a thread of the transport's own pool (never
/// on Swift's cooperative pool, nor on Dispatch's, which on Linux adds a thread about once a second while
/// its threads block) and resumes the awaiting task when done. Easy handles are pooled and reset, not
/// freed, so their connections stay open for the next request (keep-alive). At most
/// `maxConcurrentRequests` run at once; the rest wait their turn. Bodies stream when asked: a request body
/// read from a file as it is sent (`HTTPRequest.bodyFile`), a response body written to a file as it
/// arrives (`HTTPRequest.responseFile`).
///
/// `@unchecked Sendable`: the only mutable state is the handle pool, guarded by `lock`; a handle is used by
/// one request at a time.
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Seconds to establish a connection.
        public var connectTimeout: Int = 10
        /// A transfer slower than 1 byte/s for this many seconds is aborted (idle timeout): a server that
        /// accepts and never answers fails a try in seconds, and a request in at most the retry policy's
        /// attempts times this.
        public var idleTimeout: Int = 15
        /// Verify TLS certificates (on by default; turn off only for test servers).
        public var verifyTLS = true
        /// A CA bundle file instead of the system's; by default `AWS_CA_BUNDLE`, the AWS SDKs' convention.
        public var caBundle: String? = ProcessInfo.processInfo.environment["AWS_CA_BUNDLE"].flatMap { $0.isEmpty ? nil : $0 }
        public var maxConcurrentRequests = 64
        /// Each transfer receives about this many bytes per second at most (nil: as fast as the network goes).
        /// libcurl's `CURLOPT_MAX_RECV_SPEED_LARGE`, checked after up to 100 reads: a capped transfer reads
        /// 16 KiB at a time (not 256 KiB), so that a burst stays under 2 MB, and 8 MiB capped at 8 MB/s take
        /// about a second. What `iceberg-bench ingest --connection-mbps` uses to give each connection about
        /// the throughput S3 gives one (some 100 MB/s); also a way to keep a job from filling a shared link.
        ///
        /// ```swift
        /// var settings = CurlTransport.Configuration()
        /// settings.maxReceiveBytesPerSecond = 80_000_000
        /// let s3 = S3Client(configuration: configuration, credentials: credentials, transport: CurlTransport(configuration: settings))
        /// ```
        public var maxReceiveBytesPerSecond: Int64?
        public init() {}
    }

    public let configuration: Configuration
    private let lock = NSLock()
    private var idle: [UnsafeMutableRawPointer] = []
    private let threads: BlockingThreadPool

    /// One transport for the process is enough; it pools connections.
    public static let shared = CurlTransport()

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        threads = BlockingThreadPool(name: "iceberg-ingest.curl", limit: configuration.maxConcurrentRequests)
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }

    deinit { for handle in idle { curl_easy_cleanup(handle) } }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await threads.run { [self] in try perform(request) }
    }

    private func takeHandle() -> UnsafeMutableRawPointer? {
        lock.withLock { idle.popLast() } ?? curl_easy_init()
    }

    private func returnHandle(_ handle: UnsafeMutableRawPointer) {
        curl_easy_reset(handle)  // keeps the connection cache
        lock.withLock { idle.append(handle) }
    }

    /// Collects a response; passed to curl's callbacks as userdata.
    private final class Sink {
        var body: [UInt8] = []
        var headers: [String: String] = [:]
        var upload: [UInt8] = []
        var uploadOffset = 0
        /// Streamed upload: the file and how many bytes remain to send.
        var uploadFile: FileHandle?
        var uploadRemaining: Int64 = 0
        /// Streamed download: where a 2xx body goes; an error body still goes to `body`.
        var responsePath: String?
        var responseFile: FileHandle?
        var status = 0
        var failure: (any Error)?
    }

    private func perform(_ request: HTTPRequest) throws -> HTTPResponse {
        guard let handle = takeHandle() else { throw S3Error(code: "CurlInit", message: "curl_easy_init failed", isRetryable: true) }
        var reusable = true
        defer { if reusable { returnHandle(handle) } else { curl_easy_cleanup(handle) } }
        let sink = Sink()
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        let userdata = box.toOpaque()

        setConnectionOptions(handle, url: request.url, idleTimeout: request.idleTimeout)
        // Closed when the request is done (not at the end of the call that opens it).
        defer { try? sink.uploadFile?.close() }
        try setMethodAndBody(handle, request, sink: sink, userdata: userdata)
        let list = Self.headerList(request.headers)
        defer { curl_slist_free_all(list) }
        _ = ccurl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        sink.responsePath = request.responseFile
        defer { try? sink.responseFile?.close() }
        Self.setResponseCallbacks(handle, userdata: userdata)

        let rc = curl_easy_perform(handle)
        if let failure = sink.failure { throw failure }
        guard rc == CURLE_OK else {
            reusable = false
            let text = String(cString: curl_easy_strerror(rc))
            let timeout = rc == CURLE_OPERATION_TIMEDOUT
            throw S3Error(code: timeout ? "Timeout" : "ConnectionFailed", message: "\(request.method) \(Self.redacted(request.url)): \(text)", isRetryable: true)
        }
        var status = 0
        _ = ccurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }

    /// The URL, timeouts (the request's idle timeout, else the transport's) and TLS settings of a request.
    private func setConnectionOptions(_ handle: UnsafeMutableRawPointer, url: String, idleTimeout: Int?) {
        _ = ccurl_easy_setopt_string(handle, CURLOPT_URL, url)
        // Object keys are data: a key with `..` or `.` segments names that exact object. libcurl would
        // otherwise collapse dot segments and send the request for another key (or another bucket).
        _ = ccurl_easy_setopt_long(handle, CURLOPT_PATH_AS_IS, 1)
        _ = ccurl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, configuration.connectTimeout)
        _ = ccurl_easy_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = ccurl_easy_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, idleTimeout ?? configuration.idleTimeout)
        _ = ccurl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, configuration.verifyTLS ? 1 : 0)
        _ = ccurl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, configuration.verifyTLS ? 2 : 0)
        if let bundle = configuration.caBundle { _ = ccurl_easy_setopt_string(handle, CURLOPT_CAINFO, bundle) }
        _ = ccurl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        // Receive up to 256 KiB per read instead of curl's 16 KiB: an object GET of 16 MiB takes about 64
        // reads and callbacks, not 1,000. Each pooled handle holds one such buffer.
        if let rate = configuration.maxReceiveBytesPerSecond {
            // libcurl checks the rate after up to 100 reads: 16 KiB reads keep a burst to 1.6 MB.
            _ = ccurl_easy_setopt_long(handle, CURLOPT_BUFFERSIZE, 16 << 10)
            _ = ccurl_easy_setopt_int64(handle, CURLOPT_MAX_RECV_SPEED_LARGE, curl_off_t(rate))
        } else {
            _ = ccurl_easy_setopt_long(handle, CURLOPT_BUFFERSIZE, Self.receiveBufferBytes)
        }
    }

    /// Bytes curl receives per read (``CURLOPT_BUFFERSIZE``).
    static let receiveBufferBytes = 256 << 10

    /// The method, and the body from memory or streamed from a file range. No seek function is given on
    /// purpose: libcurl would then resend a request by itself when a reused connection dies mid-request,
    /// after the server may have acted on it, and a conditional create resent unseen comes back 412 as if
    /// another writer had won. It fails instead ("rewinding of the data stream failed"), and the callers'
    /// retries, which know what a resend means for their request, decide.
    private func setMethodAndBody(_ handle: UnsafeMutableRawPointer, _ request: HTTPRequest, sink: Sink, userdata: UnsafeMutableRawPointer) throws {
        switch request.method {
        case "GET": _ = ccurl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1)
        case "HEAD": _ = ccurl_easy_setopt_long(handle, CURLOPT_NOBODY, 1)
        default: _ = ccurl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }
        if let (path, range) = request.bodyFile {
            guard let file = FileHandle(forReadingAtPath: path) else { throw S3Error(code: "LocalFile", message: "cannot open \(path)") }
            try file.seek(toOffset: UInt64(range.lowerBound))
            sink.uploadFile = file
            sink.uploadRemaining = Int64(range.count)
            _ = ccurl_easy_setopt_long(handle, CURLOPT_UPLOAD, 1)
            _ = ccurl_easy_setopt_int64(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(range.count))
            _ = ccurl_easy_setopt_pointer(handle, CURLOPT_READDATA, userdata)
            _ = ccurl_easy_setopt_read_function(handle) { buffer, size, count, user in
                let sink = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
                let want = Int(min(Int64(size * count), sink.uploadRemaining))
                guard want > 0, let data = try? sink.uploadFile?.read(upToCount: want), !data.isEmpty else { return 0 }
                data.withUnsafeBytes { UnsafeMutableRawPointer(buffer!).copyMemory(from: $0.baseAddress!, byteCount: data.count) }
                sink.uploadRemaining -= Int64(data.count)
                return data.count
            }
        } else if let body = request.body, request.method != "GET", request.method != "HEAD" {
            sink.upload = body
            _ = ccurl_easy_setopt_long(handle, CURLOPT_UPLOAD, 1)
            _ = ccurl_easy_setopt_int64(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(body.count))
            _ = ccurl_easy_setopt_pointer(handle, CURLOPT_READDATA, userdata)
            _ = ccurl_easy_setopt_read_function(handle) { buffer, size, count, user in
                let sink = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
                let n = min(size * count, sink.upload.count - sink.uploadOffset)
                if n > 0 {
                    sink.upload.withUnsafeBytes { src in
                        UnsafeMutableRawPointer(buffer!).copyMemory(from: src.baseAddress! + sink.uploadOffset, byteCount: n)
                    }
                    sink.uploadOffset += n
                }
                return n
            }
        }
    }

    /// The request's headers, with no "Expect: 100-continue" round trip and no Content-Type curl would invent.
    private static func headerList(_ headers: [(String, String)]) -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers { list = curl_slist_append(list, "\(name): \(value)") }
        list = curl_slist_append(list, "Expect:")
        if !headers.contains(where: { $0.0.lowercased() == "content-type" }) { list = curl_slist_append(list, "Content-Type:") }
        return list
    }

    /// Where the response goes: headers and status to the sink, a 2xx body to the response file when one is
    /// asked for (memory then holds one callback's bytes), any other body to memory.
    private static func setResponseCallbacks(_ handle: UnsafeMutableRawPointer, userdata: UnsafeMutableRawPointer) {
        _ = ccurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, userdata)
        _ = ccurl_easy_setopt_write_function(handle) { data, size, count, user in
            let sink = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            if let path = sink.responsePath, (200..<300).contains(sink.status) {
                if sink.responseFile == nil {
                    guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
                        sink.failure = S3Error(code: "LocalFile", message: "cannot create \(path)")
                        return 0
                    }
                    sink.responseFile = file
                }
                do {
                    try sink.responseFile!.write(contentsOf: Data(bytesNoCopy: data!, count: n, deallocator: .none))
                } catch {
                    sink.failure = S3Error(code: "LocalFile", message: "cannot write \(path): \(error)")
                    return 0
                }
                return n
            }
            data!.withMemoryRebound(to: UInt8.self, capacity: n) { sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
            return n
        }
        _ = ccurl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, userdata)
        _ = ccurl_easy_setopt_header_function(handle) { data, size, count, user in
            let sink = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            let line = data!.withMemoryRebound(to: UInt8.self, capacity: n) { String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self) }
            if line.hasPrefix("HTTP/") {
                // A new response (after 100 Continue or a redirect): its status decides where the body goes.
                sink.headers = [:]
                sink.status = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
            }
            if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                sink.headers[name] = value
                // The body's room at once (bounded: the length is the server's word), not by doubling as it
                // arrives: an 8 MiB range otherwise moved about 8 MiB more through reallocations.
                if name == "content-length", sink.responsePath == nil, sink.body.isEmpty, let length = Int(value), length > 0, length <= 64 << 20 {
                    sink.body.reserveCapacity(length)
                }
            }
            return n
        }
    }

    /// A URL without its query (presigned URLs carry signatures and tokens there) and without credentials
    /// in its authority (`http://user:secret@host` becomes `http://***@host`).
    public static func redacted(_ url: String) -> String {
        redactingUserInfo(url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url)
    }

    /// `scheme://user:password@host/...` as `scheme://***@host/...`, the rest as it is (also a URL inside a
    /// query, such as a Glue catalog URI's `endpoint=`).
    public static func redactingUserInfo(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        let rest = text[scheme.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return text }
        return String(text[..<scheme.upperBound]) + "***" + String(rest[at...])
    }
}
