from cifar_edge.cli import main

main()
