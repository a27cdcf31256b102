/*
 * A real Kafka-protocol cluster on 127.0.0.1: librdkafka's mock cluster, the
 * broker Confluent's own clients are tested against.
 *
 *   kafka-mock [--brokers N] [--initial-rebalance-delay-ms MS] [--topic NAME:PARTITIONS]...
 *
 * Prints "BOOTSTRAP=<host:port,...>" once the cluster listens, then reads
 * control lines on stdin until EOF (so it never outlives its parent):
 *   topic NAME PARTITIONS   create a topic
 *   down BROKER_ID          take a broker down (fault injection)
 *   up BROKER_ID            bring it back
 *   rtt BROKER_ID MS        add round-trip latency to a broker
 * Each control line is answered with "OK" or "ERR <reason>".
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int create_topic(rd_kafka_mock_cluster_t *mc, const char *name, int partitions) {
  if (partitions < 1) return -1;
  return rd_kafka_mock_topic_create(mc, name, partitions, 1) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

static void usage(void) {
  fprintf(stderr, "usage: kafka-mock [--brokers N] [--initial-rebalance-delay-ms MS] [--topic NAME:PARTITIONS]...\n");
  exit(2);
}

int main(int argc, char **argv) {
  int brokers = 1, rebalance_delay_ms = -1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--brokers") && i + 1 < argc) brokers = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--initial-rebalance-delay-ms") && i + 1 < argc) rebalance_delay_ms = atoi(argv[++i]);
  }
  if (brokers < 1) usage();

  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) { fprintf(stderr, "kafka-mock: %s\n", errstr); return 1; }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) { fprintf(stderr, "kafka-mock: could not start the mock cluster\n"); return 1; }

  /* LeaveGroup (API key 13): the mock advertises v0-v4 but reads and answers only the v0-v2
   * layout, so a v3 leave (kafkajs) names no member and its answer cannot be decoded; the
   * member then stays in the group until its session times out, and every rejoin waits for
   * that. Advertising v0-v2 makes consumers leave at once. */
  rd_kafka_mock_set_apiversion(mc, 13, 0, 2);

  /* group.initial.rebalance.delay.ms: how long the coordinator waits after a group's first
   * member joins, for others to come (Kafka's default, and the mock's, is 3 s). */
  if (rebalance_delay_ms >= 0) rd_kafka_mock_group_initial_rebalance_delay_ms(mc, rebalance_delay_ms);

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--brokers") || !strcmp(argv[i], "--initial-rebalance-delay-ms")) { i++; continue; }
    if (strcmp(argv[i], "--topic") || i + 1 >= argc) usage();
    char *spec = argv[++i], *colon = strrchr(spec, ':');
    if (!colon) usage();
    *colon = '\0';
    if (create_topic(mc, spec, atoi(colon + 1))) {
      fprintf(stderr, "kafka-mock: cannot create topic %s\n", spec);
      return 1;
    }
  }

  printf("BOOTSTRAP=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  char line[1024], name[512];
  int a, b;
  while (fgets(line, sizeof line, stdin)) {
    int ok;
    if (sscanf(line, "topic %511s %d", name, &a) == 2) ok = !create_topic(mc, name, a);
    else if (sscanf(line, "down %d", &a) == 1) ok = !rd_kafka_mock_broker_set_down(mc, a);
    else if (sscanf(line, "up %d", &a) == 1) ok = !rd_kafka_mock_broker_set_up(mc, a);
    else if (sscanf(line, "rtt %d %d", &a, &b) == 2) ok = !rd_kafka_mock_broker_set_rtt(mc, a, b);
    else { printf("ERR unknown command\n"); fflush(stdout); continue; }
    printf(ok ? "OK\n" : "ERR command failed\n");
    fflush(stdout);
  }

  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
