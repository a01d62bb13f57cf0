// The cheapest possible libcurl poll: the yardstick issue 16 measures the daemon's CPU per
// probe against. Each connection is one thread with one easy handle, set up once and reused
// (keep-alive), sending the same GET the daemon's DeepSeek probe sends (URL and Bearer
// header) and throwing the body away. No parsing, no storage, no alerts: what is left is
// the HTTP exchange itself, the floor under any poller built on libcurl.
//
//   curl_reference URL REQUESTS [CONNECTIONS] [AUTHORIZATION]
//
// Prints one JSON line: requests made, failures, wall seconds, and CPU (utime + stime of
// the whole process, from getrusage) in µs per request, counted from just before the first
// request to just after the last (curl_global_init and handle creation are outside it).
// bench/load/run_load.py runs it against the same nginx as the daemon, right after it, with
// as many requests as the daemon made in its measured window.
#include <curl/curl.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

std::size_t discard(char*, std::size_t size, std::size_t count, void*) { return size * count; }

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct Connection {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  long requests = 0;
  long failures = 0;
};

void poll(Connection& c) {
  for (long i = 0; i < c.requests; ++i) {
    long status = 0;
    if (curl_easy_perform(c.easy) != CURLE_OK ||
        curl_easy_getinfo(c.easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK || status != 200) {
      ++c.failures;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s URL REQUESTS [CONNECTIONS] [AUTHORIZATION]\n", argv[0]);
    return 2;
  }
  const std::string url = argv[1];
  const long requests = std::strtol(argv[2], nullptr, 10);
  const long connections = std::max(1L, argc > 3 ? std::strtol(argv[3], nullptr, 10) : 1L);
  const std::string authorization = argc > 4 ? std::string("Authorization: ") + argv[4] : "";
  if (requests <= 0) return 2;

  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::vector<Connection> pool(static_cast<std::size_t>(connections));
  for (std::size_t i = 0; i < pool.size(); ++i) {
    auto& c = pool[i];
    c.easy = curl_easy_init();
    if (!c.easy) return 1;
    curl_easy_setopt(c.easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c.easy, CURLOPT_WRITEFUNCTION, discard);
    if (!authorization.empty()) {
      c.headers = curl_slist_append(nullptr, authorization.c_str());
      curl_easy_setopt(c.easy, CURLOPT_HTTPHEADER, c.headers);
    }
    c.requests = requests / connections + (static_cast<long>(i) < requests % connections ? 1 : 0);
  }

  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  if (pool.size() == 1) {
    poll(pool.front());  // no thread: the cheapest case, as the daemon's one-account `check` does
  } else {
    std::vector<std::thread> threads;
    threads.reserve(pool.size());
    for (auto& c : pool) threads.emplace_back([&c] { poll(c); });
    for (auto& t : threads) t.join();
  }
  const double cpu1 = cpu_seconds();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();

  long failures = 0;
  for (auto& c : pool) {
    failures += c.failures;
    curl_easy_cleanup(c.easy);
    curl_slist_free_all(c.headers);
  }
  curl_global_cleanup();
  std::printf(
      "{\"requests\": %ld, \"connections\": %ld, \"failures\": %ld, \"wall_seconds\": %.6f, \"cpu_seconds\": %.6f, "
      "\"cpu_us_per_request\": %.3f}\n",
      requests, connections, failures, wall, cpu1 - cpu0, 1e6 * (cpu1 - cpu0) / static_cast<double>(requests));
  return failures == 0 ? 0 : 1;
}
