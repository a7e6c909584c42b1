package org.etcdjvm.embedded.cluster;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code curl -L} for the cluster tests: plain JDK HTTP, redirects followed by hand (so that each hop
 * is visible), and every write classified the way a careful client must see it.
 */
final class Curl {
  static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(1))
      .followRedirects(HttpClient.Redirect.NEVER)
      .build();

  /** What became of a request. */
  enum Outcome {
    /** 200: applied. */
    OK,
    /** An etcd error the server produced before applying anything (e.g. 101 compare failed, 300 no leader). */
    FAILED,
    /** Timeout, connection reset after sending, 300 "timed out waiting for commit", ...: may or may not be applied. */
    UNKNOWN
  }

  record Reply(int status, String body, String location, Outcome outcome, String error) {
    Optional<Integer> errorCode() {
      return field(body, "errorCode").map(Integer::parseInt);
    }

    long index() {
      return field(body, "index").map(Long::parseLong).orElseThrow(() -> new AssertionError("no index in " + this));
    }

    Optional<String> value() {
      return field(body, "value");
    }

    boolean ok() {
      return outcome == Outcome.OK;
    }
  }

  private Curl() {}

  static Reply get(String url, Duration timeout) {
    return send("GET", url, null, timeout, 5);
  }

  static Reply post(String url, Duration timeout, String... form) {
    return send("POST", url, form(form), timeout, 5);
  }

  static Reply put(String url, Duration timeout, String... form) {
    return send("PUT", url, form(form), timeout, 5);
  }

  static Reply delete(String url, Duration timeout) {
    return send("DELETE", url, null, timeout, 5);
  }

  /** One request with no redirect followed. */
  static Reply once(String method, String url, String form, Duration timeout) {
    return send(method, url, form, timeout, 0);
  }

  static String form(String... pairs) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      if (sb.length() > 0) {
        sb.append('&');
      }
      sb.append(URLEncoder.encode(pairs[i], StandardCharsets.UTF_8)).append('=')
          .append(URLEncoder.encode(pairs[i + 1], StandardCharsets.UTF_8));
    }
    return sb.toString();
  }

  /**
   * Sends, following up to {@code redirects} 307s. Classification: a connection refused before
   * anything was sent means nothing was applied (FAILED); a timeout or a connection broken after the
   * request went out is UNKNOWN.
   */
  static Reply send(String method, String url, String form, Duration timeout, int redirects) {
    String target = url;
    for (int hop = 0; ; hop++) {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(target)).timeout(timeout);
      if (form != null) {
        b.header("Content-Type", "application/x-www-form-urlencoded");
        b.method(method, HttpRequest.BodyPublishers.ofString(form));
      } else {
        b.method(method, HttpRequest.BodyPublishers.noBody());
      }
      HttpResponse<String> r;
      try {
        r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      } catch (java.net.ConnectException e) {
        return new Reply(0, "", null, Outcome.FAILED, "connect: " + e);
      } catch (HttpTimeoutException e) {
        return new Reply(0, "", null, Outcome.UNKNOWN, "timeout: " + e);
      } catch (IOException e) {
        // includes "connection refused" wrapped differently by some JDKs: treat as unknown (safe)
        Throwable c = e.getCause();
        if (c instanceof java.net.ConnectException) {
          return new Reply(0, "", null, Outcome.FAILED, "connect: " + e);
        }
        return new Reply(0, "", null, Outcome.UNKNOWN, "io: " + e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new Reply(0, "", null, Outcome.UNKNOWN, "interrupted");
      }
      String location = r.headers().firstValue("Location").orElse(null);
      if (r.statusCode() == 307 && location != null && hop < redirects) {
        target = location;
        continue;
      }
      return new Reply(r.statusCode(), r.body(), location, classify(r.statusCode(), r.body()), null);
    }
  }

  private static Outcome classify(int status, String body) {
    if (status == 200) {
      return Outcome.OK;
    }
    Optional<String> code = field(body, "errorCode");
    if (code.isEmpty()) {
      return Outcome.UNKNOWN;
    }
    int c = Integer.parseInt(code.get());
    if (c == 300) {
      // "no leader" is answered before anything is submitted; any other 300 may have been applied
      return field(body, "cause").filter("no leader"::equals).isPresent() ? Outcome.FAILED : Outcome.UNKNOWN;
    }
    return c == 301 ? Outcome.FAILED : c < 300 || c >= 400 ? Outcome.FAILED : Outcome.UNKNOWN;
  }

  private static final Pattern FIELD = Pattern.compile("\"([A-Za-z]+)\":(\"((?:[^\"\\\\]|\\\\.)*)\"|(-?\\d+)|true|false)");

  /** The first top-level-looking field of that name in a compact JSON body (strings unescaped only for \" and \\). */
  static Optional<String> field(String body, String name) {
    if (body == null) {
      return Optional.empty();
    }
    Matcher m = FIELD.matcher(body);
    while (m.find()) {
      if (m.group(1).equals(name)) {
        if (m.group(3) != null) {
          return Optional.of(m.group(3).replace("\\\"", "\"").replace("\\\\", "\\"));
        }
        return Optional.of(m.group(4) != null ? m.group(4) : m.group(2));
      }
    }
    return Optional.empty();
  }
}
