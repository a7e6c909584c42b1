package org.etcdjvm.client.integration;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waiting for a condition, never for a fixed time. */
final class Await {
  private Await() {}

  static void until(Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("condition not met within " + timeout);
      Thread.sleep(10);
    }
  }

  /** The client's form of a node's URL (OkHttp's HttpUrl adds the trailing slash). */
  static String base(String clientUrl) {
    return clientUrl + "/";
  }
}
