// The program of a layer check (cmake/layers.cmake): it does nothing; linking it is the check.
int main() { return 0; }
