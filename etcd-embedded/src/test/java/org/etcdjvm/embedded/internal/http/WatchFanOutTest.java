package org.etcdjvm.embedded.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.DefaultEventExecutor;
import io.netty.util.concurrent.EventExecutor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.etcdjvm.embedded.internal.store.Action;
import org.etcdjvm.embedded.internal.store.Event;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WatchFanOutTest {
  private final EventExecutor loop = new DefaultEventExecutor();
  private final WatchFanOut fanOut = new WatchFanOut();

  @AfterEach
  void stop() {
    loop.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }

  private static Event set(String key, String value, long index) {
    return new Event(Action.SET, key, false, null, value, true, null, index);
  }

  @Test
  void everyWatcherOfAnEventGetsTheSameBytesEncodedOnce() {
    Event event = set("/big", "v".repeat(500_000), 7);
    List<ByteBuf> bodies = new CopyOnWriteArrayList<>();
    for (int i = 0; i < 500; i++) {
      fanOut.deliver(loop, body -> bodies.add(body.content(ByteBufAllocator.DEFAULT)), event);
    }
    Await.until(Duration.ofSeconds(20), () -> bodies.size() == 500, () -> bodies.size() + " of 500 delivered");
    Set<ByteBuf> underlying = Collections.newSetFromMap(new IdentityHashMap<>());
    for (ByteBuf b : bodies) {
      underlying.add(b.unwrap());
      assertThat(b.isDirect()).isTrue();
    }
    assertThat(underlying).hasSize(1);
    assertThat(bodies.get(0).toString(StandardCharsets.UTF_8))
        .startsWith("{\"action\":\"SET\",\"key\":\"/big\",\"value\":\"vvv").endsWith("\"newKey\":true,\"index\":7}");
    ByteBuf shared = underlying.iterator().next();

    // The next event lets go of this one; once every answer is written (released), the memory is free.
    fanOut.deliver(loop, body -> { }, set("/next", "x", 8));
    bodies.forEach(ByteBuf::release);
    Await.until(Duration.ofSeconds(20), () -> shared.refCnt() == 0, () -> "refCnt " + shared.refCnt());
  }

  @Test
  void aTaskQueuedWhileWatchersAreBeingWokenDoesNotWaitForAllOfThem() {
    // The write's own answer reaches its event loop after the watchers it woke were queued there.
    List<String> order = new CopyOnWriteArrayList<>();
    Event event = set("/k", "v", 1);
    int watchers = 10 * WatchFanOut.SLICE;
    for (int i = 0; i < watchers; i++) {
      int n = i;
      fanOut.deliver(loop, body -> {
        order.add("watcher");
        if (n == 0) {
          loop.execute(() -> order.add("answer"));
        }
      }, event);
    }
    Await.until(Duration.ofSeconds(20), () -> order.size() == watchers + 1, () -> order.size() + " ran");
    assertThat(order.indexOf("answer")).isLessThanOrEqualTo(WatchFanOut.SLICE);
  }

  @Test
  void largeEventsAreDeliveredInSmallerSlices() {
    List<String> order = new CopyOnWriteArrayList<>();
    Event event = set("/big", "v".repeat(500_000), 1);
    for (int i = 0; i < 20; i++) {
      int n = i;
      fanOut.deliver(loop, body -> {
        order.add("watcher");
        if (n == 0) {
          loop.execute(() -> order.add("answer"));
        }
      }, event);
    }
    Await.until(Duration.ofSeconds(20), () -> order.size() == 21, () -> order.size() + " ran");
    // About 1 MiB of answers per slice: two or three watchers of 500 KB before the answer's turn.
    assertThat(order.indexOf("answer")).isLessThanOrEqualTo(3);
  }

  @Test
  void eventsAreNotMixedUp() {
    List<String> seen = new CopyOnWriteArrayList<>();
    List<Event> events = new ArrayList<>();
    for (int i = 1; i <= 50; i++) {
      events.add(set("/k" + i, "v" + i, i));
    }
    for (Event e : events) {
      for (int w = 0; w < 3; w++) {
        fanOut.deliver(loop, body -> {
          ByteBuf content = body.content(ByteBufAllocator.DEFAULT);
          seen.add(body.event().index() + "=" + content.toString(StandardCharsets.UTF_8));
          content.release();
        }, e);
      }
    }
    Await.until(Duration.ofSeconds(20), () -> seen.size() == 150, () -> seen.size() + " of 150");
    for (String s : seen) {
      long index = Long.parseLong(s.substring(0, s.indexOf('=')));
      assertThat(s).endsWith("\"key\":\"/k" + index + "\",\"value\":\"v" + index + "\",\"newKey\":true,\"index\":"
          + index + "}");
    }
  }
}
