import CCurl
import Foundation
import Testing
import TestSupport

/// A plain libcurl GET of the S3 endpoint's service root, through the typed setopt shims.
@Suite struct CurlLibraryTests {
    final class Body { var bytes: [UInt8] = [] }

    @Test func getServiceRootOfS3Endpoint() throws {
        let s3 = try TestEnvironment.s3()
        #expect(curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK)
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        let body = Body()
        let box = Unmanaged.passUnretained(body).toOpaque()
        #expect(ccurl_easy_setopt_string(handle, CURLOPT_URL, s3.endpoint + "/") == CURLE_OK)
        #expect(ccurl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 5_000) == CURLE_OK)
        #expect(ccurl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, 20_000) == CURLE_OK)
        #expect(ccurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, box) == CURLE_OK)
        #expect(ccurl_easy_setopt_write_function(handle) { data, size, count, user in
            let body = Unmanaged<Body>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            data!.withMemoryRebound(to: UInt8.self, capacity: n) { body.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
            return n
        } == CURLE_OK)
        let rc = curl_easy_perform(handle)
        #expect(rc == CURLE_OK, "curl: \(String(cString: curl_easy_strerror(rc)))")
        var status = 0
        #expect(ccurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
        let text = String(decoding: body.bytes, as: UTF8.self)
        // Unsigned: moto lists the buckets (200); a real S3 or MinIO refuses with an S3 XML error (403).
        #expect([200, 403].contains(status), "status \(status): \(text.prefix(300))")
        #expect(text.contains("ListAllMyBucketsResult") || text.contains("<Error>"), "body: \(text.prefix(300))")
    }

    @Test func versionHasTLSAndZlib() {
        let info = ccurl_version_info()!.pointee
        #expect(info.features & CURL_VERSION_SSL != 0)
        #expect(info.features & CURL_VERSION_LIBZ != 0)
    }
}
