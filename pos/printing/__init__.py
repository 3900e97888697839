"""Receipt printers on the network: ESC/POS documents (escpos_documents) and sending them over
raw TCP (network). The services in pos.services.printing decide what prints when."""
