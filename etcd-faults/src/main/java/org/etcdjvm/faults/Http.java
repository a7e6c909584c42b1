package org.etcdjvm.faults;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The harness's HTTP: plain JDK client, HTTP/1.1, redirects followed by hand (each hop visible), and
 * every reply classified the way a careful client must see a write:
 * <ul>
 *   <li>nothing was sent (connection refused, connect timeout) or the server answered before
 *       submitting anything (307, error 300 "no leader", a request error) &rarr; {@code sent=false}
 *       or a definite error;
 *   <li>a timeout, a connection broken after sending, a 5xx without a known cause &rarr; unknown.
 * </ul>
 */
final class Http implements AutoCloseable {
  /** One request's fate. {@code status} 0 when no HTTP answer came. */
  record Reply(int status, String body, String location, Failure failure, String error, String url) {
    boolean isOk() {
      return status == 200;
    }

    /** The error object of a JSON error body, or null. */
    Map<String, Object> errorJson() {
      if (status == 200 || body == null || body.isEmpty()) {
        return null;
      }
      Map<String, Object> m = Json.object(body);
      return m != null && m.get("errorCode") instanceof Long ? m : null;
    }

    int errorCode() {
      Map<String, Object> m = errorJson();
      return m == null ? -1 : ((Long) m.get("errorCode")).intValue();
    }

    String errorCause() {
      Map<String, Object> m = errorJson();
      return m == null || !(m.get("cause") instanceof String s) ? null : s;
    }

    String describe() {
      if (failure != Failure.NONE) {
        return failure + ": " + error;
      }
      return status + " " + (body == null ? "" : Json.abbreviate(body.strip()));
    }
  }

  /** How a request failed below HTTP. */
  enum Failure {
    NONE,
    /** Nothing reached the server. */
    NOT_SENT,
    /** Sent (or maybe sent), no answer. */
    NO_ANSWER
  }

  private final ExecutorService executor;
  private final HttpClient client;

  Http(String name) {
    executor = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "http-" + name);
      t.setDaemon(true);
      return t;
    });
    client = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(1))
        .followRedirects(HttpClient.Redirect.NEVER)
        .executor(executor)
        .build();
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

  Reply get(String url, Duration timeout) {
    return send("GET", url, null, timeout, 0);
  }

  /**
   * Sends, following up to {@code redirects} 307s (keeping method and body). A 307 is answered
   * before anything is submitted, so following it never doubles a write.
   */
  Reply send(String method, String url, String form, Duration timeout, int redirects) {
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
        r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
      } catch (HttpConnectTimeoutException e) {
        return new Reply(0, null, null, Failure.NOT_SENT, "connect timeout", target);
      } catch (ConnectException e) {
        return new Reply(0, null, null, Failure.NOT_SENT, "connect: " + e.getMessage(), target);
      } catch (HttpTimeoutException e) {
        return new Reply(0, null, null, Failure.NO_ANSWER, "timeout after " + timeout.toMillis() + " ms", target);
      } catch (IOException e) {
        if (e.getCause() instanceof ConnectException) {
          return new Reply(0, null, null, Failure.NOT_SENT, "connect: " + e.getCause().getMessage(), target);
        }
        return new Reply(0, null, null, Failure.NO_ANSWER, "io: " + e, target);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new Reply(0, null, null, Failure.NO_ANSWER, "interrupted", target);
      }
      String location = r.headers().firstValue("Location").orElse(null);
      if (r.statusCode() == 307 && location != null && hop < redirects) {
        target = location;
        continue;
      }
      return new Reply(r.statusCode(), r.body(), location, Failure.NONE, null, target);
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
