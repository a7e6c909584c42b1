package org.etcdjvm.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.etcdjvm.embedded.internal.LocalCluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In-process nodes joining a running node at runtime ({@code peers(...)} naming one member), the
 * {@code removeMember} API, and what every member reads around a key's expiration.
 */
class RuntimeMembershipTest {
  @TempDir Path dir;
  private final List<EtcdNode> nodes = new ArrayList<>();

  @AfterEach
  void close() {
    nodes.forEach(EtcdNode::close);
    nodes.clear();
  }

  private EtcdNode start(String name, String... peers) throws Exception {
    EtcdNode node = builder(name, peers).build();
    nodes.add(node);
    node.start().get(120, TimeUnit.SECONDS);
    return node;
  }

  /** Timings for a CI machine that may be busy: a 500 ms election timeout and a 90 s start. */
  private EtcdNode.Builder builder(String name, String... peers) throws java.io.IOException {
    return EtcdNode.builder().name(name).dataDir(dir.resolve(name)).clientAddress("127.0.0.1:0")
        .peerAddress("127.0.0.1:" + LocalCluster.freePort()).peers(peers)
        .electionTimeout(Duration.ofMillis(500)).heartbeatInterval(Duration.ofMillis(100))
        .startTimeout(Duration.ofSeconds(90));
  }

  private static String peer(EtcdNode node) {
    return node.peerUrl().substring("http://".length());
  }

  @Test
  void nodesJoinARunningNodeAndOneIsRemovedThroughTheApi() throws Exception {
    EtcdNode a = start("a");
    EtcdNode b = start("b", peer(a));
    EtcdNode c = start("c", peer(a));
    for (EtcdNode n : nodes) {
      assertThat(awaitBody(n, "/v1/machines", body -> body.split(", ").length == 3)).contains(a.clientUrl());
    }
    assertThat(nodes.stream().filter(EtcdNode::isLeader)).hasSize(1);

    b.removeMember("c").get(30, TimeUnit.SECONDS);
    c.whenClosed().get(30, TimeUnit.SECONDS);
    assertThat(awaitBody(a, "/v1/machines", body -> body.split(", ").length == 2)).doesNotContain(c.clientUrl());
    HttpResponse<String> write = new V1Http(b.clientUrl()).post("/v1/keys/after", "value=two");
    assertThat(write.statusCode()).isEqualTo(200);

    assertThatThrownBy(() -> a.removeMember("nobody").get(10, TimeUnit.SECONDS))
        .cause().isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nobody");
  }

  /**
   * Found by the fault harness ({@code removed-member-running}): a member that joined under load
   * and was removed a few seconds later kept running. It must stop by itself, however it learns of
   * its removal (the configuration entry, the leader's notice, or asking the members).
   */
  @Test
  void membersRemovedUnderLoadSoonAfterJoiningStopByThemselves() throws Exception {
    EtcdNode a = start("a");
    start("b", peer(a));
    start("c", peer(a));
    java.util.concurrent.atomic.AtomicBoolean writing = new java.util.concurrent.atomic.AtomicBoolean(true);
    java.util.concurrent.atomic.AtomicInteger written = new java.util.concurrent.atomic.AtomicInteger();
    Thread writer = new Thread(() -> {
      V1Http curl = new V1Http(a.clientUrl());
      while (writing.get()) {
        try {
          if (curl.post("/v1/keys/load/" + written.get() % 100, "value=" + written.get()).statusCode() == 200) {
            written.incrementAndGet();
          }
        } catch (AssertionError e) {
          // a write that fails while the configuration changes; the next one is sent anyway
        }
      }
    }, "writer");
    writer.setDaemon(true);
    writer.start();
    try {
      for (int round = 0; round < 3; round++) {
        EtcdNode d = start("d" + round, peer(a));
        int before = written.get();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (written.get() < before + 200 && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        a.removeMember("d" + round).get(30, TimeUnit.SECONDS);
        d.whenClosed().get(30, TimeUnit.SECONDS);
        nodes.remove(d);
      }
    } finally {
      writing.set(false);
      writer.join(30_000);
    }
    assertThat(written.get()).isGreaterThan(600);
    assertThat(awaitBody(a, "/v1/machines", body -> body.split(", ").length == 3)).contains(a.clientUrl());
  }

  @Test
  void severalNodesJoiningAtOnceAllBecomeVotingMembers() throws Exception {
    EtcdNode a = start("a");
    List<EtcdNode> joiners = new ArrayList<>();
    for (String name : List.of("b", "c", "d", "e")) {
      EtcdNode node = builder(name, peer(a)).build();
      nodes.add(node);
      joiners.add(node);
    }
    // all four ask the leader to promote them while the others change the configuration
    List<java.util.concurrent.CompletableFuture<EtcdNode>> started = joiners.stream().map(EtcdNode::start).toList();
    for (var s : started) {
      s.get(120, TimeUnit.SECONDS);
    }
    for (EtcdNode n : nodes) {
      assertThat(awaitBody(n, "/v1/machines", body -> body.split(", ").length == 5)).contains(a.clientUrl());
    }
    // five voters: the cluster keeps writing with two of them gone
    EtcdNode leader = nodes.stream().filter(EtcdNode::isLeader).findFirst().orElseThrow();
    List<EtcdNode> others = nodes.stream().filter(n -> n != leader).toList();
    others.get(0).close();
    others.get(1).close();
    assertThat(new V1Http(leader.clientUrl()).post("/v1/keys/five", "value=3 of 5").statusCode()).isEqualTo(200);
  }

  @Test
  void anExpiredKeyIsGoneOnEveryMemberTheMomentItExpiresAndExpiresOnceForWatchers() throws Exception {
    EtcdNode a = start("a");
    EtcdNode b = start("b", peer(a));
    EtcdNode leader = a.isLeader() ? a : b;
    HttpResponse<String> set = new V1Http(leader.clientUrl()).post("/v1/keys/ttl", "value=soon", "ttl=1");
    assertThat(set.statusCode()).isEqualTo(200);
    long setIndex = V1Http.index(set.body());
    Instant expiration = expiration(set.body());
    // watchers on both members, from the index after the set: the expiry is one DELETE at one index
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> watches = new ArrayList<>();
    for (EtcdNode n : List.of(a, b)) {
      watches.add(java.util.concurrent.CompletableFuture.supplyAsync(
          () -> new V1Http(n.clientUrl()).post("/v1/watch/ttl", "index=" + (setIndex + 1))));
    }
    while (Instant.now().isBefore(expiration)) {
      Thread.sleep(Math.max(1, Duration.between(Instant.now(), expiration).toMillis()));
    }
    for (EtcdNode n : List.of(a, b)) {
      HttpResponse<String> get = new V1Http(n.clientUrl()).get("/v1/keys/ttl");
      assertThat(get.body()).as("GET on %s right after the expiration", n.name()).contains("\"errorCode\":100");
    }
    List<String> events = new ArrayList<>();
    for (var w : watches) {
      events.add(w.get(10, TimeUnit.SECONDS).body());
    }
    assertThat(events.get(0)).startsWith("{\"action\":\"DELETE\",\"key\":\"/ttl\",\"prevValue\":\"soon\"")
        .isEqualTo(events.get(1));
  }

  @Test
  void consistentReadsGoToTheLeaderAndEveryAnswerCarriesTheReplicasIndex() throws Exception {
    EtcdNode a = start("a");
    EtcdNode b = start("b", peer(a));
    EtcdNode leader = a.isLeader() ? a : b;
    EtcdNode follower = leader == a ? b : a;
    HttpResponse<String> set = new V1Http(leader.clientUrl()).post("/v1/keys/c", "value=1");
    long index = V1Http.index(set.body());
    assertThat(set.headers().firstValue("X-Etcd-Index")).contains(Long.toString(index));

    java.net.http.HttpClient noRedirects = java.net.http.HttpClient.newHttpClient();
    HttpResponse<String> redirected = noRedirects.send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create(follower.clientUrl() + "/v1/keys/c?consistent=true")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(redirected.statusCode()).isEqualTo(307);
    assertThat(redirected.headers().firstValue("Location")).contains(leader.clientUrl() + "/v1/keys/c?consistent=true");

    HttpResponse<String> consistent = new V1Http(follower.clientUrl()).get("/v1/keys/c?consistent=true");
    assertThat(consistent.statusCode()).isEqualTo(200);
    assertThat(consistent.body()).contains("\"value\":\"1\"");
    assertThat(Long.parseLong(consistent.headers().firstValue("X-Etcd-Index").orElseThrow())).isGreaterThanOrEqualTo(index);

    HttpResponse<String> missing = new V1Http(follower.clientUrl()).get("/v1/keys/nothing");
    assertThat(missing.body()).contains("\"errorCode\":100");
    assertThat(missing.headers().firstValue("X-Etcd-Index")).isPresent();
  }

  @Test
  void aNodeThatIsStillStartingAnswers503UntilItIsReady() throws Exception {
    EtcdNode waiting = EtcdNode.builder().name("w").dataDir(dir.resolve("w")).clientAddress("127.0.0.1:0")
        .peerAddress("127.0.0.1:" + LocalCluster.freePort()).peers("127.0.0.1:1").startTimeout(java.time.Duration.ofSeconds(20))
        .build();
    nodes.add(waiting);
    java.util.concurrent.CompletableFuture<EtcdNode> starting = waiting.start();
    String url = null;
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (url == null && System.nanoTime() < deadline) {
      try {
        url = waiting.clientUrl();
      } catch (IllegalStateException notBoundYet) {
        Thread.sleep(10);
      }
    }
    assertThat(url).isNotNull();
    for (String path : new String[] {"/version", "/v1/keys/x", "/v1/machines"}) {
      HttpResponse<String> r = new V1Http(url).get(path);
      assertThat(r.statusCode()).as(path).isEqualTo(503);
      assertThat(r.body()).contains("\"errorCode\":300").contains("starting");
    }
    assertThat(starting).isNotDone();
  }

  private static Instant expiration(String json) {
    Matcher m = Pattern.compile("\"expiration\":\"([^\"]+)\"").matcher(json);
    assertThat(m.find()).as(json).isTrue();
    return OffsetDateTime.parse(m.group(1)).toInstant();
  }

  private static String awaitBody(EtcdNode node, String path, java.util.function.Predicate<String> done)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    String body = "";
    while (System.nanoTime() < deadline) {
      body = new V1Http(node.clientUrl()).get(path).body();
      if (done.test(body)) {
        return body;
      }
      Thread.sleep(20);
    }
    throw new AssertionError(path + " on " + node.name() + " never matched; last: " + body);
  }
}
