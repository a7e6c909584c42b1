package org.etcdjvm.embedded;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;

/** A tiny curl for tests: real HTTP over loopback with the JDK client, following redirects like {@code curl -L}. */
final class V1Http {
  private final HttpClient client;
  private final String base;

  V1Http(String base) {
    this(base, null);
  }

  /** Over {@code https://} with {@code tls} (its trusted CAs, and perhaps a client certificate). */
  V1Http(String base, javax.net.ssl.SSLContext tls) {
    this.base = base;
    HttpClient.Builder b = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NORMAL)
        .connectTimeout(Duration.ofSeconds(5));
    if (tls != null) {
      b.sslContext(tls);
    }
    this.client = b.build();
  }

  /** {@code curl -L URL -d k=v -d k=v}: a form POST. */
  HttpResponse<String> post(String path, String... formPairs) {
    return send(HttpRequest.newBuilder(URI.create(base + path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form(formPairs))));
  }

  HttpResponse<String> get(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  CompletableFuture<HttpResponse<String>> getAsync(String path) {
    return client.sendAsync(HttpRequest.newBuilder(URI.create(base + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> delete(String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
  }

  /** {@code curl -L URL -X METHOD}: no body. */
  HttpResponse<String> method(String method, String path) {
    return send(HttpRequest.newBuilder(URI.create(base + path)).method(method, HttpRequest.BodyPublishers.noBody()));
  }

  /** A POST with this exact body and {@code Content-Type} (none when {@code contentType} is null). */
  HttpResponse<String> postBody(String path, String contentType, byte[] body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    return send(b);
  }

  /** A form POST whose body is already encoded. */
  HttpResponse<String> postEncoded(String path, String encodedForm) {
    return postBody(path, "application/x-www-form-urlencoded", encodedForm.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** A form POST that does not wait: for watches with {@code index=N}. */
  CompletableFuture<HttpResponse<String>> postAsync(String path, String... formPairs) {
    return client.sendAsync(HttpRequest.newBuilder(URI.create(base + path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form(formPairs))).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return client.send(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new AssertionError("request failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static String form(String... pairs) {
    Map<String, String> fields = new LinkedHashMap<>();
    StringJoiner body = new StringJoiner("&");
    for (String pair : pairs) {
      int eq = pair.indexOf('=');
      fields.put(pair.substring(0, eq), pair.substring(eq + 1));
      body.add(URLEncoder.encode(pair.substring(0, eq), StandardCharsets.UTF_8) + "="
          + URLEncoder.encode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return body.toString();
  }

  /** The value of the integer field {@code "index"} in a v1 JSON body. */
  static long index(String json) {
    int at = json.lastIndexOf("\"index\":");
    if (at < 0) {
      throw new AssertionError("no index in " + json);
    }
    int start = at + 8;
    int end = start;
    while (end < json.length() && Character.isDigit(json.charAt(end))) {
      end++;
    }
    return Long.parseLong(json.substring(start, end));
  }
}
