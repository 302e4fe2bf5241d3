// Readiness probe used by kafka.sh: polls the broker with the Kafka AdminClient until it answers a
// DescribeCluster (metadata) request listing at least one live broker.
// Usage: java -cp 'libs/*:probe' ReadyCheck BOOTSTRAP TIMEOUT_SECONDS [BROKER_PID]
// Exit codes: 0 ready, 2 timeout, 3 broker process died.
import java.util.Collection;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.common.Node;

public class ReadyCheck {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        long deadline = System.currentTimeMillis() + Long.parseLong(args[1]) * 1000L;
        long pid = args.length > 2 ? Long.parseLong(args[2]) : -1L;
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "orderledger-readycheck");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "2000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MS_CONFIG, "100");
        p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "250");
        p.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, "100");
        p.put(AdminClientConfig.RETRY_BACKOFF_MAX_MS_CONFIG, "250");
        Exception last = null;
        try (Admin admin = Admin.create(p)) {
            while (true) {
                if (pid > 0 && !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    System.err.println("broker process " + pid + " exited");
                    System.exit(3);
                }
                try {
                    DescribeClusterResult r = admin.describeCluster(new DescribeClusterOptions().timeoutMs(2000));
                    Collection<Node> nodes = r.nodes().get();
                    String clusterId = r.clusterId().get();
                    Node controller = r.controller().get();
                    if (!nodes.isEmpty()) {
                        System.out.println("ready cluster.id=" + clusterId + " brokers=" + nodes + " controller=" + controller);
                        System.exit(0);
                    }
                } catch (Exception e) {
                    last = e;
                }
                if (System.currentTimeMillis() > deadline) {
                    System.err.println("broker not ready before timeout; last error: " + last);
                    System.exit(2);
                }
                Thread.sleep(200);
            }
        }
    }
}
