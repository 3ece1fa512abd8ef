# The textbook's UDP server, as the course presents it, with two changes so tests can use it: it
# binds the port given on the command line (0 for any free one) and prints "listening on PORT"
# once ready, like the toolkit's own servers.
import sys
from socket import *

serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('127.0.0.1', serverPort))
print("listening on", serverSocket.getsockname()[1], flush=True)
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
    modifiedMessage = message.decode().upper()
    serverSocket.sendto(modifiedMessage.encode(), clientAddress)
