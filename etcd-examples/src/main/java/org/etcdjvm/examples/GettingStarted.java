package org.etcdjvm.examples;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.etcdjvm.client.CompareFailedException;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.client.EtcdResponse;
import org.etcdjvm.client.Watch;
import org.etcdjvm.client.WatchEvent;
import org.etcdjvm.embedded.EtcdNode;

/**
 * etcd's getting-started guide, step by step, with {@link EtcdClient} instead of curl, against an
 * {@link EtcdNode} this program starts itself (on free loopback ports, in a temporary directory).
 *
 * <p>Shows: set, get, delete, a directory listing, a watch woken by a set, test-and-set
 * ({@code compareAndSet}), and a key with a TTL whose expiry a watch reports.
 */
public final class GettingStarted {
  private GettingStarted() {}

  public static void main(String[] args) throws Exception {
    run(System.out);
  }

  /** Starts a node, walks through the guide printing each step to {@code out}, stops the node. */
  public static void run(PrintStream out) throws Exception {
    Path dir = Files.createTempDirectory("etcd-getting-started");
    try (EtcdNode node = EtcdNode.builder().dataDir(dir).clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").build()) {
      node.start().get(30, TimeUnit.SECONDS);
      out.println("node ready at " + node.clientUrl());
      try (EtcdClient etcd = EtcdClient.builder().endpoints(node.clientUrl()).build()) {
        walkThrough(etcd, out);
      }
    } finally {
      Examples.deleteRecursively(dir);
    }
  }

  static void walkThrough(EtcdClient etcd, PrintStream out) throws Exception {
    // curl -L http://127.0.0.1:4001/v1/keys/message -d value="Hello"
    EtcdResponse set = etcd.set("/message", "Hello").send();
    out.println("set    /message = " + set.value() + " (new key: " + set.newKey() + ", index " + set.index() + ")");
    // curl -L http://127.0.0.1:4001/v1/keys/message
    out.println("get    /message = " + etcd.get("/message").send().value());
    // curl -L http://127.0.0.1:4001/v1/keys/message -X DELETE
    out.println("delete /message (was " + etcd.delete("/message").send().prevValue() + ")");
    out.println("get    /message = " + etcd.getOrNull("/message"));

    // curl -L http://127.0.0.1:4001/v1/keys/foo-service/container1 -d value="localhost:1111"
    etcd.set("/foo-service/container1", "localhost:1111").send();
    // curl -L http://127.0.0.1:4001/v1/keys/foo-service
    for (EtcdResponse entry : etcd.list("/foo-service").send()) {
      out.println("list   " + entry.key() + " = " + entry.value());
    }

    // curl -L http://127.0.0.1:4001/v1/watch/foo-service   (in another window), then a second set
    BlockingQueue<WatchEvent> events = new ArrayBlockingQueue<>(16);
    Watch watch = etcd.watch("/foo-service").listener(events::add).start();
    etcd.set("/foo-service/container2", "localhost:2222").send();
    WatchEvent event = events.poll(5, TimeUnit.SECONDS);
    out.println("watch  " + event.type() + " " + event.key() + " = " + event.value());
    watch.close();

    // curl -L http://127.0.0.1:4001/v1/keys/message -d prevValue=Hello -d value=Hi
    etcd.set("/message", "Hello").send();
    EtcdResponse swapped = etcd.compareAndSet("/message", "Hello", "Hi").send();
    out.println("cas    /message " + swapped.prevValue() + " -> " + swapped.value());
    try {
      etcd.compareAndSet("/message", "Hello", "Again").send();
    } catch (CompareFailedException e) {
      out.println("cas    /message refused: " + e.cause());
    }

    // curl -L http://127.0.0.1:4001/v1/keys/foo -d value=bar -d ttl=5   (2 s here, to be quick)
    Watch expiries = etcd.watch("/foo").onExpire(events::add).start();
    EtcdResponse ttl = etcd.set("/foo", "bar").ttl(Duration.ofSeconds(2)).send();
    out.println("set    /foo = bar, expires " + ttl.expiration());
    WatchEvent expired = events.poll(10, TimeUnit.SECONDS);
    out.println("watch  " + expired.type() + " " + expired.key() + " (was " + expired.prevValue() + ")");
    expiries.close();
    out.println("get    /foo = " + etcd.getOrNull("/foo"));
  }
}
