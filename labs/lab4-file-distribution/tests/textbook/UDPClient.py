# The textbook's UDP client, as the course presents it, with one change so tests can use it: the
# server's host and port come from the command line instead of being written into the program.
# It sends one line without a newline and prints the reply, like the book's version.
import sys
from socket import *

serverName = sys.argv[1]
serverPort = int(sys.argv[2])
clientSocket = socket(AF_INET, SOCK_DGRAM)
clientSocket.settimeout(5)
message = input()
clientSocket.sendto(message.encode(), (serverName, serverPort))
modifiedMessage, serverAddress = clientSocket.recvfrom(2048)
print(modifiedMessage.decode())
clientSocket.close()
