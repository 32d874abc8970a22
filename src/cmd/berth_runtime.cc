#include <cstdio>
int main() {
  std::puts("berth-runtime version 0.1.0");
  return 0;
}
