package org.etcdjvm.client;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okio.ByteString;

/** Canned etcd v1 answers and small helpers shared by the tests. */
final class Mocks {
  private Mocks() {}

  static MockResponse ok(String json) {
    return new MockResponse.Builder().code(200).body(json).build();
  }

  /** An etcd error exactly as etcdjvm frames it: JSON + "\n", text/plain. */
  static MockResponse error(int httpStatus, int errorCode, String message, String cause) {
    String json = "{\"errorCode\":" + errorCode + ",\"message\":\"" + message + "\""
        + (cause != null ? ",\"cause\":\"" + cause + "\"" : "") + "}\n";
    return new MockResponse.Builder().code(httpStatus)
        .setHeader("Content-Type", "text/plain; charset=utf-8").body(json).build();
  }

  static MockResponse redirect(String location) {
    return new MockResponse.Builder().code(307).setHeader("Location", location).build();
  }

  static String set(String key, String value, long index) {
    return "{\"action\":\"SET\",\"key\":\"" + key + "\",\"value\":\"" + value + "\",\"index\":" + index + "}";
  }

  static String delete(String key, String prevValue, long index) {
    return "{\"action\":\"DELETE\",\"key\":\"" + key + "\",\"prevValue\":\"" + prevValue + "\",\"index\":" + index + "}";
  }

  static String get(String key, String value, long index) {
    return "{\"action\":\"GET\",\"key\":\"" + key + "\",\"value\":\"" + value + "\",\"index\":" + index + "}";
  }

  /** A client on these servers, without background member refresh so request queues stay exact. */
  static EtcdClient.Builder client(MockWebServer... servers) {
    String[] urls = new String[servers.length];
    for (int i = 0; i < servers.length; i++) urls[i] = base(servers[i]);
    return EtcdClient.builder().endpoints(urls).autoSync(false).readTimeout(Duration.ofSeconds(5));
  }

  static String base(MockWebServer server) {
    return "http://" + server.getHostName() + ":" + server.getPort();
  }

  /** A URL nothing listens on: connecting is refused at once. */
  static String closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return "http://127.0.0.1:" + socket.getLocalPort();
    }
  }

  static RecordedRequest take(MockWebServer server) throws InterruptedException {
    RecordedRequest request = server.takeRequest(5, TimeUnit.SECONDS);
    if (request == null) throw new AssertionError("no request within 5 s");
    return request;
  }

  static String body(RecordedRequest request) {
    ByteString body = request.getBody();
    return body == null ? "" : body.utf8();
  }
}
