package org.etcdjvm.embedded;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Generates HTTP requests for {@link HttpFuzzTest} from a seeded {@link Random}: methods, request
 * targets with every byte (raw, percent-encoded, badly encoded, over-long UTF-8), form bodies and
 * query strings with etcd's fields and junk, sizes around the node's limits, chunked bodies, and —
 * only as the last request of a batch — broken framing and raw garbage.
 *
 * <p>Keys come from a small pool most of the time, so that sets, reads, deletes, compare-and-swaps
 * and watches meet each other's keys and directories. Valid TTLs are always at least 10^7 s: no key
 * written by the fuzzer expires during the run, so the store's index moves only with its writes.
 *
 * <p>Strings here are ISO-8859-1: one char per byte on the wire.
 */
final class FuzzRequests {
  static final String FORM = "application/x-www-form-urlencoded";

  /**
   * A request as bytes, with what the reader needs to know about it.
   *
   * @param route      {@code keys}, {@code watch} or {@code other}
   * @param rawKey     for keys and watch: the raw path after {@code /v1/keys} or {@code /v1/watch}
   * @param wellFramed whether the request ends where the next one begins (else it comes last)
   * @param mayWait    a watch: it may wait for an event (it comes last)
   */
  record Request(String method, String route, String rawKey, byte[] bytes, boolean wellFramed, boolean mayWait,
      String summary) {
    boolean isHead() {
      return method.equals("HEAD");
    }

    /** A set or delete that, answered 200, changed the store. */
    boolean isWrite() {
      return route.equals("keys") && (method.equals("POST") || method.equals("PUT") || method.equals("DELETE"));
    }
  }

  private static final String[] SEGMENTS = {
    "a", "b", "c", "dir", "x y", "x+y", "\u00c3\u00a9t\u00c3\u00a9", "k1", "k2", "_etcd", "ephemeralNodes",
    "_etcdfoo", "..", ".", "", "%2E%2E", "%2F", "a%2Fb", "\u00f0\u009f\u0098\u0080", "machines", "foo-service",
  };
  private static final String[] OTHER_TARGETS = {
    "/v1/leader", "/v1/machines", "/v1/stats/self", "/v1/stats/leader", "/v1/stats/store", "/v1/stats/x",
    "/version", "/", "/v2/keys/a", "/v1/keysx", "/v1", "/V1/keys/a", "/v1/keys", "*",
    "http://127.0.0.1/v1/keys/a", "/v1/keys/a#frag", "/v1/keys/a?", "/v1/keys/?value=q",
  };
  private static final String[] VALUES = {
    "1", "x", "", "hello world", "\u00c3\u00a9", "<&>", "\"quoted\"", "a\\b", "\u00e2\u0080\u00a8", "0", "-1",
  };
  private static final String[] TTLS = {
    "", "0", "-1", "-0", "+", "abc", "1.5", " 5", "5s", "0x10", "99999999999999999999", "10000000",
    "+10000000", "31536000000", "%FF", "%31%30%30%30%30%30%30%30",
  };
  private static final String[] TOKENS = {"OPTIONS", "PATCH", "TRACE", "CONNECT", "get", "Post", "FOO", "M-SEARCH"};

  private final Random random;
  private final int maxBodyBytes;
  private final int maxValueBytes;
  private final int maxKeyBytes;
  private final int maxFormFields;
  private long knownIndex;

  FuzzRequests(Random random, int maxBodyBytes, int maxValueBytes, int maxKeyBytes, int maxFormFields) {
    this.random = random;
    this.maxBodyBytes = maxBodyBytes;
    this.maxValueBytes = maxValueBytes;
    this.maxKeyBytes = maxKeyBytes;
    this.maxFormFields = maxFormFields;
  }

  /** The store index last seen, for watch indexes near it. */
  void knownIndex(long index) {
    this.knownIndex = index;
  }

  /** 1 to 20 requests for one connection; a request that may wait (a watch) or breaks framing comes last. */
  List<Request> batch() {
    int size = 1 + random.nextInt(random.nextInt(10) == 0 ? 20 : 6);
    List<Request> batch = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      boolean last = i == size - 1;
      Request r = last && random.nextInt(50) == 0 ? chaos() : request();
      batch.add(r);
      if (r.mayWait() || !r.wellFramed()) {
        break;
      }
    }
    return batch;
  }

  // ---------------------------------------------------------------- well-framed requests

  private Request request() {
    int route = random.nextInt(100);
    String method = method();
    String routeName;
    String rawKey = null;
    String path;
    if (route < 85) {
      routeName = "keys";
      rawKey = key();
      path = "/v1/keys" + rawKey;
    } else if (route < 88) {
      routeName = "watch";
      rawKey = key();
      path = "/v1/watch" + rawKey;
    } else {
      path = pick(OTHER_TARGETS);
      String routed = path.startsWith("http://") ? path.substring(path.indexOf('/', 7)) : path;
      int end = routed.length();
      for (char c : new char[] {'?', '#'}) {
        if (routed.indexOf(c) >= 0) {
          end = Math.min(end, routed.indexOf(c));
        }
      }
      routed = routed.substring(0, end);
      if (routed.equals("/v1/keys") || routed.startsWith("/v1/keys/")) {
        routeName = "keys"; // a write through these counts like any other
        rawKey = routed.substring("/v1/keys".length());
      } else {
        routeName = "other";
      }
    }
    StringBuilder target = new StringBuilder(path);
    if (random.nextInt(5) == 0) {
      target.append(target.indexOf("?") < 0 ? '?' : '&').append(form(routeName));
    }
    boolean http10 = random.nextInt(20) == 0;
    StringBuilder head = new StringBuilder();
    head.append(method).append(' ').append(target).append(http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
    if (random.nextInt(10) != 0) {
      head.append("Host: fuzz\r\n");
    }
    if (http10 && random.nextBoolean()) {
      head.append("Connection: keep-alive\r\n");
    } else if (random.nextInt(25) == 0) {
      head.append("Connection: close\r\n");
    }
    if (random.nextInt(15) == 0) {
      head.append("X-Fuzz-").append(random.nextInt(1000)).append(": ").append(printable(random.nextInt(40)))
          .append("\r\n");
    }
    byte[] body = new byte[0];
    boolean hasBody = !method.equals("GET") || random.nextInt(20) == 0;
    if (hasBody && random.nextInt(8) != 0) {
      String contentType = contentType();
      if (contentType != null) {
        head.append("Content-Type: ").append(contentType).append("\r\n");
      }
      body = latin1(bodyFor(routeName, contentType));
    }
    boolean expect = body.length > 0 && random.nextInt(30) == 0;
    if (expect) {
      head.append("Expect: 100-continue\r\n");
    }
    boolean chunked = body.length > 0 && !http10 && random.nextInt(8) == 0;
    byte[] framed;
    if (chunked) {
      head.append("Transfer-Encoding: chunked\r\n\r\n");
      framed = concat(latin1(head.toString()), chunks(body));
    } else {
      if (body.length > 0 || random.nextBoolean()) {
        head.append("Content-Length: ").append(body.length).append("\r\n");
      }
      head.append("\r\n");
      framed = concat(latin1(head.toString()), body);
    }
    // A watch may wait for hours; it goes last and is not waited for. So does an oversized body sent
    // after Expect: 100-continue (the server answers 413 and closes instead of reading it).
    boolean mayWait = routeName.equals("watch") && (method.equals("GET") || method.equals("POST"));
    boolean framedForSure = !(expect && body.length > maxBodyBytes);
    return new Request(method, routeName, rawKey, framed, framedForSure, mayWait,
        method + " " + abbreviate(target.toString()) + (http10 ? " 1.0" : "") + (chunked ? " chunked" : "")
            + " body=" + body.length);
  }

  private String method() {
    int m = random.nextInt(100);
    if (m < 35) {
      return "GET";
    } else if (m < 60) {
      return "POST";
    } else if (m < 78) {
      return "PUT";
    } else if (m < 92) {
      return "DELETE";
    } else if (m < 95) {
      return "HEAD";
    }
    return pick(TOKENS);
  }

  /** A path below {@code /v1/keys} or {@code /v1/watch}: "", "/", or segments, raw or encoded. */
  private String key() {
    int n = random.nextInt(10);
    if (n == 0) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    int segments = 1 + random.nextInt(random.nextInt(8) == 0 ? 6 : 3);
    for (int i = 0; i < segments; i++) {
      sb.append('/').append(segment());
    }
    if (random.nextInt(10) == 0) {
      sb.append('/');
    }
    return sb.toString();
  }

  private String segment() {
    int kind = random.nextInt(100);
    if (kind < 70) {
      return pick(SEGMENTS);
    } else if (kind < 80) {
      return percentEncoded(randomBytes(1 + random.nextInt(8))); // any byte, escaped
    } else if (kind < 85) {
      return badEscape();
    } else if (kind < 90) {
      return rawHighBytes(1 + random.nextInt(6)); // raw bytes >= 0x80 on the request line
    } else if (kind < 95) {
      // Around the key limit: a clean key of maxKeyBytes is allowed, one more byte is not.
      int length = maxKeyBytes - 20 + random.nextInt(40);
      return "k".repeat(Math.max(1, length));
    } else {
      return printable(1 + random.nextInt(12)).replace(" ", "%20").replace("?", "%3F").replace("#", "%23");
    }
  }

  private String contentType() {
    int c = random.nextInt(100);
    if (c < 80) {
      return FORM;
    } else if (c < 85) {
      return "Application/X-WWW-Form-URLEncoded; charset=utf-8";
    } else if (c < 90) {
      return "text/plain";
    } else if (c < 93) {
      return "multipart/form-data; boundary=b";
    } else if (c < 96) {
      return "application/json";
    }
    return null;
  }

  private String bodyFor(String route, String contentType) {
    if (contentType == null || !contentType.toLowerCase().startsWith("application/x-www")) {
      return random.nextBoolean() ? form(route) : new String(randomBytes(random.nextInt(200)),
          StandardCharsets.ISO_8859_1);
    }
    int size = random.nextInt(100);
    if (size < 3) {
      // Past the body limit: 413.
      return "value=" + "v".repeat(maxBodyBytes + random.nextInt(1000) - 5);
    } else if (size < 5) {
      // Past the form field limit, cheaply.
      return "value=x&" + "a&".repeat(maxFormFields + random.nextInt(3));
    } else if (size < 8) {
      // Around the value limit.
      return "value=" + "w".repeat(maxValueBytes - 2 + random.nextInt(4));
    }
    return form(route);
  }

  /** 0 to 6 pairs of etcd's fields and others, each part raw, encoded or broken. */
  private String form(String route) {
    int pairs = random.nextInt(7);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < pairs; i++) {
      if (i > 0 || random.nextInt(10) == 0) {
        sb.append(random.nextInt(15) == 0 ? "&&" : "&");
      }
      String name = fieldName(route);
      sb.append(name);
      if (random.nextInt(12) != 0) {
        sb.append('=').append(fieldValue(name));
      }
    }
    return sb.toString();
  }

  private String fieldName(String route) {
    int n = random.nextInt(100);
    if (n < 45) {
      return route.equals("watch") ? "index" : "value";
    } else if (n < 60) {
      return "ttl";
    } else if (n < 75) {
      return "prevValue";
    } else if (n < 80) {
      return "index";
    } else if (n < 85) {
      return "Value";
    } else if (n < 90) {
      return "pre%76Value";
    }
    return percentEncoded(randomBytes(1 + random.nextInt(4)));
  }

  private String fieldValue(String name) {
    if (name.equals("ttl")) {
      return pick(TTLS);
    }
    if (name.equals("index")) {
      int i = random.nextInt(10);
      if (i < 6) {
        return Long.toString(Math.max(0, knownIndex - 3 + random.nextInt(5)));
      }
      return pick(new String[] {"", "x", "-1", "1.0", "%20", "18446744073709551615", "99999999999999999999999", "0"});
    }
    int v = random.nextInt(100);
    if (v < 55) {
      return pick(VALUES).replace("&", "%26").replace(" ", "+");
    } else if (v < 70) {
      return percentEncoded(randomBytes(random.nextInt(20)));
    } else if (v < 78) {
      return badEscape();
    } else if (v < 86) {
      return rawHighBytes(random.nextInt(10)); // raw UTF-8 or not
    } else if (v < 94) {
      return printable(random.nextInt(60)).replace("&", "%26").replace("%", "%25");
    }
    return "l".repeat(random.nextInt(maxValueBytes + 10));
  }

  private byte[] chunks(byte[] body) {
    StringBuilder sb = new StringBuilder();
    int at = 0;
    while (at < body.length) {
      int n = Math.min(body.length - at, 1 + random.nextInt(Math.max(1, body.length / 2 + 1)));
      sb.append(Integer.toHexString(n)).append("\r\n")
          .append(new String(body, at, n, StandardCharsets.ISO_8859_1)).append("\r\n");
      at += n;
    }
    sb.append("0\r\n\r\n");
    return latin1(sb.toString());
  }

  // ---------------------------------------------------------------- broken framing (last in a batch)

  private Request chaos() {
    String rawKey = key();
    String target = "/v1/keys" + rawKey;
    String head = "PUT " + target + " HTTP/1.1\r\nHost: fuzz\r\nContent-Type: " + FORM + "\r\n";
    String body = "value=" + pick(VALUES);
    String wire;
    String what;
    switch (random.nextInt(14)) {
      case 0 -> {
        wire = head + "Content-Length: " + (body.length() + 1 + random.nextInt(50)) + "\r\n\r\n" + body;
        what = "body shorter than Content-Length";
      }
      case 1 -> {
        wire = head + "Content-Length: " + random.nextInt(body.length()) + "\r\n\r\n" + body;
        what = "body longer than Content-Length";
      }
      case 2 -> {
        wire = head + "Content-Length: " + pick(new String[] {"abc", "-1", "1 2", "", "99999999999999999999"})
            + "\r\n\r\n" + body;
        what = "bad Content-Length";
      }
      case 3 -> {
        wire = head + "Content-Length: " + body.length() + "\r\nContent-Length: " + (body.length() + 1)
            + "\r\n\r\n" + body;
        what = "two Content-Lengths";
      }
      case 4 -> {
        wire = head + "Content-Length: " + body.length() + "\r\nTransfer-Encoding: chunked\r\n\r\n"
            + Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n";
        what = "Content-Length and chunked";
      }
      case 5 -> {
        wire = head + "Transfer-Encoding: chunked\r\n\r\n" + pick(new String[] {"zz", "-1", "FFFFFFFFFFFFFFFFFF", ""})
            + "\r\n" + body + "\r\n0\r\n\r\n";
        what = "bad chunk size";
      }
      case 6 -> {
        wire = head.substring(0, 1 + random.nextInt(head.length() - 1)); // at least a byte: none is no request
        what = "headers cut short";
      }
      case 7 -> {
        wire = new String(randomBytes(1 + random.nextInt(300)), StandardCharsets.ISO_8859_1);
        what = "garbage";
      }
      case 8 -> {
        wire = "GET /v1/keys/" + new String(randomBytes(1 + random.nextInt(10)), StandardCharsets.ISO_8859_1)
            + " HTTP/1.1\r\nHost: fuzz\r\n\r\n";
        what = "raw bytes (CR, LF, space, NUL) in the target";
      }
      case 9 -> {
        wire = "GET /version HTTP/1.1\r\nHost: fuzz\r\nX-Bad" + (char) random.nextInt(32) + ": y\r\nBad Header\r\n\r\n";
        what = "malformed header";
      }
      case 10 -> {
        wire = "GET /version HTTP/1.1\r\nX-Big: " + "h".repeat(70 * 1024) + "\r\n\r\n";
        what = "headers over 64 KiB";
      }
      case 11 -> {
        wire = "GET /" + "p".repeat(70 * 1024) + " HTTP/1.1\r\n\r\n";
        what = "request line over 64 KiB";
      }
      case 12 -> {
        wire = head + "Expect: 100-continue\r\nContent-Length: " + (maxBodyBytes + 1) + "\r\n\r\n";
        what = "oversized body announced with Expect: 100-continue, never sent";
      }
      default -> {
        wire = "GET /version HTTP/9.9\r\n\r\n";
        what = "unknown HTTP version";
      }
    }
    // Whatever part of it the server reads may be a valid write: it counts as one when answered 200.
    return new Request("PUT", "keys", rawKey, latin1(wire), false, false, "chaos: " + what);
  }

  // ---------------------------------------------------------------- pieces

  private String percentEncoded(byte[] bytes) {
    StringBuilder sb = new StringBuilder();
    for (byte b : bytes) {
      sb.append('%').append(String.format("%02X", b & 0xFF));
    }
    return sb.toString();
  }

  private String badEscape() {
    return pick(new String[] {"%", "%4", "%G1", "%zz", "%%", "a%", "%C0%AF", "%ED%A0%80", "%F4%90%80%80", "%C3",
        "%E2%82", "%FF", "%00", "%0A", "%7F"});
  }

  private String rawHighBytes(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append((char) (0x80 + random.nextInt(0x80)));
    }
    return sb.toString();
  }

  private String printable(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append((char) (0x20 + random.nextInt(0x5F)));
    }
    return sb.toString();
  }

  private byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private String pick(String[] options) {
    return options[random.nextInt(options.length)];
  }

  private static byte[] latin1(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** At most the first 160 chars of {@code s}, bytes outside printable ASCII as {@code \xNN}. */
  static String abbreviate(String s) {
    StringBuilder sb = new StringBuilder(200);
    for (int i = 0; i < s.length() && sb.length() < 160; i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x7F) {
        sb.append(c);
      } else {
        sb.append(String.format("\\x%02x", (int) c));
      }
    }
    return sb.length() < 160 ? sb.toString() : sb + "...(" + s.length() + " chars)";
  }
}
